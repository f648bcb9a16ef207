import { auditRouter } from './routers/audit.ts';
import { authRouter } from './routers/auth.ts';
import { companiesRouter } from './routers/companies.ts';
import { cyclesRouter } from './routers/cycles.ts';
import { jobsRouter } from './routers/jobs.ts';
import { projectsRouter } from './routers/projects.ts';
import { sessionsRouter } from './routers/sessions.ts';
import { statsRouter } from './routers/stats.ts';
import { tokensRouter } from './routers/tokens.ts';
import { uploadsRouter } from './routers/uploads.ts';
import { usersRouter } from './routers/users.ts';
import { router } from './trpc.ts';

export const appRouter = router({
  audit: auditRouter,
  auth: authRouter,
  companies: companiesRouter,
  cycles: cyclesRouter,
  jobs: jobsRouter,
  projects: projectsRouter,
  sessions: sessionsRouter,
  stats: statsRouter,
  tokens: tokensRouter,
  uploads: uploadsRouter,
  users: usersRouter,
});

export type AppRouter = typeof appRouter;
