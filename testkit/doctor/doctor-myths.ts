/**
 * The folklore doctor must never give as a fix: tcp_tw_recycle (removed in Linux 4.12) turned
 * on, tcp_fin_timeout lowered as if it were a TIME_WAIT setting, tcp_max_tw_buckets lowered,
 * and SO_LINGER 0 as a way out of TIME_WAIT (it closes with a RST and loses data). Naming
 * them is allowed as what was seen or what not to do: a sentence naming tcp_tw_recycle must
 * say it was removed, one naming tcp_fin_timeout must say it is about FIN_WAIT2, one naming
 * SO_LINGER must say it sends a RST; and a fix may set them only back (tcp_tw_recycle to 0,
 * tcp_fin_timeout to 60 s or more, tcp_max_tw_buckets to no less than what was seen).
 */
import type { Finding } from '../../src/doctor/finding.js';

/** tcp_fin_timeout's default: a fix may restore it, never set it lower. */
const FIN_TIMEOUT_DEFAULT = 60;

/**
 * Commands and sysctl.d lines that would turn the myths on: `sysctl -w name=value` or
 * `name = value`, value checked (evidence prints `name=value` without either: what was seen).
 */
const setting = (name: string) =>
  new RegExp(`(?:sysctl\\s+(?:-\\w+\\s+)*[\\w./]*${name}\\s*=|${name}\\s+=)\\s*"?(\\d+)`, 'g');
const SETTINGS: readonly { readonly pattern: RegExp; readonly bad: (value: number) => boolean }[] =
  [
    { pattern: setting('tcp_tw_recycle'), bad: (value) => value !== 0 },
    { pattern: setting('tcp_fin_timeout'), bad: (value) => value < FIN_TIMEOUT_DEFAULT },
    { pattern: /l_linger\s*=\s*(\d+)/g, bad: (value) => value === 0 },
  ];

function sentences(text: string): string[] {
  return text
    .replace(/\s+/g, ' ')
    .split(/(?<=[.!?])\s+/)
    .filter((sentence) => sentence !== '');
}

/** Problems in free text (the text report, or one string of the JSON one). */
export function mythProblemsInText(text: string, where: string): string[] {
  const problems: string[] = [];
  for (const { pattern, bad } of SETTINGS) {
    for (const match of text.matchAll(pattern)) {
      if (bad(Number(match[1]))) problems.push(`${where}: sets a myth sysctl: "${match[0]}"`);
    }
  }
  for (const sentence of sentences(text)) {
    if (/\b(enable|turn on|switch on)\s+(net\.ipv4\.)?tcp_tw_recycle/i.test(sentence))
      problems.push(`${where}: offers tcp_tw_recycle: "${sentence}"`);
    if (
      /\b(lower|reduce|decrease)\s+(the\s+)?(net\.ipv4\.)?(tcp_fin_timeout|tcp_max_tw_buckets)/i.test(
        sentence,
      )
    )
      problems.push(`${where}: offers lowering a TIME_WAIT myth sysctl: "${sentence}"`);
    if (sentence.includes('tcp_tw_recycle') && !sentence.includes('removed'))
      problems.push(`${where}: names tcp_tw_recycle without saying it was removed: "${sentence}"`);
    if (sentence.includes('tcp_fin_timeout') && !sentence.includes('FIN_WAIT2'))
      problems.push(
        `${where}: names tcp_fin_timeout without saying it bounds FIN_WAIT2: "${sentence}"`,
      );
    if (/SO_LINGER/.test(sentence) && !/\bRST\b/.test(sentence))
      problems.push(`${where}: names SO_LINGER without saying it closes with a RST: "${sentence}"`);
  }
  return problems;
}

/** `name=value` or `name = value` in a fix line, as sysctlFix writes them. */
function setValue(line: string, name: string): number | undefined {
  const match = new RegExp(`${name}\\s*=\\s*"?(\\d+)`).exec(line);
  return match === null ? undefined : Number(match[1]);
}

/**
 * Problems in findings: explanations may debunk; a fix may undo what was seen (each step's
 * text passes the sentence rules, its lines only set the sysctls back), never apply a myth,
 * and never names SO_LINGER at all.
 */
export function mythProblemsInFindings(findings: readonly Finding[]): string[] {
  const problems: string[] = [];
  for (const finding of findings) {
    const where = `finding ${finding.id}`;
    problems.push(...mythProblemsInText(finding.summary, `${where} summary`));
    problems.push(...mythProblemsInText(finding.explanation, `${where} explanation`));
    // Evidence is what was seen: it may show a myth's value, never set one.
    const evidence = mythProblemsInText(JSON.stringify(finding.evidence), `${where} evidence`);
    problems.push(...evidence.filter((problem) => problem.includes('sets')));
    const seenBuckets = finding.evidence['net.ipv4.tcp_max_tw_buckets'];
    for (const step of [...finding.fix, ...finding.stopTheBleeding]) {
      problems.push(...mythProblemsInText(step.step, `${where} fix`));
      for (const text of [step.step, ...(step.lines ?? [])]) {
        if (/SO_LINGER|l_linger/.test(text))
          problems.push(`${where} fix names SO_LINGER: "${text}"`);
      }
      for (const line of step.lines ?? []) {
        problems.push(
          ...mythProblemsInText(line, `${where} fix line`).filter((p) => p.includes('sets')),
        );
        const buckets = setValue(line, 'tcp_max_tw_buckets');
        if (buckets !== undefined && typeof seenBuckets === 'number' && buckets < seenBuckets)
          problems.push(`${where} fix lowers tcp_max_tw_buckets below ${seenBuckets}: "${line}"`);
      }
    }
  }
  return problems;
}
