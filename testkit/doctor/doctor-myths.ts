/**
 * The folklore doctor must never repeat: tcp_tw_recycle (removed in Linux 4.12) as a fix,
 * tcp_fin_timeout as a TIME_WAIT setting, and SO_LINGER 0 as a way out of TIME_WAIT (it
 * closes with a RST and loses data). Mentioning them to debunk them is allowed: a sentence
 * naming tcp_tw_recycle must say it was removed, one naming tcp_fin_timeout must say it is
 * about FIN_WAIT2, one naming SO_LINGER must say it sends a RST.
 */
import type { Finding } from '../../src/doctor/finding.js';

/** Commands or assignments that would set either sysctl. */
const SETTING_PATTERNS = [
  /tcp_tw_recycle\s*=/,
  /tcp_fin_timeout\s*=/,
  /sysctl\b[^\n]*tcp_tw_recycle/,
  /sysctl\b[^\n]*tcp_fin_timeout/,
  /tcp_tw_recycle\s+\d/,
  /l_linger\s*=\s*0/,
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
  for (const pattern of SETTING_PATTERNS) {
    if (pattern.test(text)) problems.push(`${where}: sets a myth sysctl (${pattern})`);
  }
  for (const sentence of sentences(text)) {
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

/** Problems in findings: explanations may debunk, fixes must not name either sysctl at all. */
export function mythProblemsInFindings(findings: readonly Finding[]): string[] {
  const problems: string[] = [];
  for (const finding of findings) {
    const where = `finding ${finding.id}`;
    problems.push(...mythProblemsInText(finding.summary, `${where} summary`));
    problems.push(...mythProblemsInText(finding.explanation, `${where} explanation`));
    problems.push(...mythProblemsInText(JSON.stringify(finding.evidence), `${where} evidence`));
    for (const step of finding.fix) {
      for (const text of [step.step, ...(step.lines ?? [])]) {
        if (/tcp_tw_recycle|tcp_fin_timeout|SO_LINGER|l_linger/.test(text))
          problems.push(`${where} fix names a myth sysctl: "${text}"`);
      }
    }
  }
  return problems;
}
