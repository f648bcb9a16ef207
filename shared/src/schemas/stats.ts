import { z } from 'zod';
import { id } from './common.ts';

export const projectStatsInput = z.object({ projectId: id });

export const sessionThroughputInput = z.object({ sessionId: id });

/** Coverage of a project's field campaign, or of one of its cycles. */
export const coverageInput = z.object({ projectId: id, cycleId: id.optional() });
