import { readFileSync } from 'node:fs';

/**
 * Prints the one summary line CI reads (`N passed, M failed`) from Vitest's JSON report, and fails when
 * the report is missing or holds a failure.
 */
const reportPath = process.argv[2] ?? 'vitest-report.json';
const report = JSON.parse(readFileSync(reportPath, 'utf8')) as {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  success: boolean;
};
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests} skipped`);
process.exit(report.success && report.numFailedTests === 0 ? 0 : 1);
