export * from './auth.ts';
export * from './companies.ts';
export * from './jobs.ts';
export * from './projects.ts';
export * from './uploads.ts';
export * from './users.ts';
