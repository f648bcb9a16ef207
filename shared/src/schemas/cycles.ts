import { z } from 'zod';
import { id, plainText } from './common.ts';

const notes = z.string().max(10_000, 'must be at most 10,000 characters');

export const listCyclesInput = z.object({ projectId: id });

export const createCycleInput = z.object({
  projectId: id,
  /** Defaults to the next of C1, C2, … */
  name: plainText(64).optional(),
  notes: notes.optional(),
});

export const updateCycleInput = z.object({ id, name: plainText(64).optional(), notes: notes.optional() });

/** At most this many differences are listed by one verify; the counts cover all of them. */
export const maxVerifyDifferences = 10_000;

export const verifyCycleInput = z.object({
  id,
  /** How many differences to list; the rest are counted only. */
  limit: z.number().int().min(1).max(maxVerifyDifferences).default(1000),
});
