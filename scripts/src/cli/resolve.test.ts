import { describe, expect, it } from 'vitest';
import { CliError } from './errors.ts';
import { pick } from './resolve.ts';

const items = [
  { id: '11111111-1111-4111-8111-111111111111', name: 'Wetlands 2025' },
  { id: '22222222-2222-4222-8222-222222222222', name: 'Coast' },
  { id: '33333333-3333-4333-8333-333333333333', name: 'coast' },
];

function refusal(wanted: string, list = items): CliError {
  try {
    pick('Project', wanted, list);
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    return error as CliError;
  }
  throw new Error(`${wanted} was accepted`);
}

describe('pick', () => {
  it('finds by id, or by name case-insensitively', () => {
    expect(pick('Project', items[1]?.id as string, items)).toBe(items[1]);
    expect(pick('Project', ' wetlands 2025 ', items)).toBe(items[0]);
  });

  it('names every choice when nothing matches, and the tied ones when a name is ambiguous (exit 2)', () => {
    const missing = refusal('Forest');
    expect(missing.exitCode).toBe(2);
    expect(missing.message).toContain('Project "Forest" not found. Choices:');
    for (const item of items) expect(missing.message).toContain(item.id);
    const tie = refusal('COAST');
    expect(tie.message).toContain('ambiguous');
    expect(tie.message).toContain(items[1]?.id);
    expect(tie.message).toContain(items[2]?.id);
    expect(tie.message).not.toContain(items[0]?.id);
    expect(refusal('x', []).message).toContain('there is none you can see');
  });
});
