/** The part of autocannon's API the tests use (the package ships no types). */
declare module 'autocannon' {
  interface AutocannonResult {
    readonly errors: number;
    readonly statusCodeStats: Readonly<Record<string, { readonly count: number }>>;
  }
  export default function autocannon(options: {
    readonly url: string;
    readonly connections: number;
    readonly amount: number;
  }): Promise<AutocannonResult>;
}
