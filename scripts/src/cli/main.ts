#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { login, logout, whoami } from './commands/account.ts';
import { cycles, projects, sessions } from './commands/lists.ts';
import { type UploadFlags, upload } from './commands/upload.ts';
import { verify } from './commands/verify.ts';
import { CliError, exitCodes, explain } from './errors.ts';

const wholeNumber = (min: number) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) throw new InvalidArgumentError(`must be a whole number ≥ ${min}`);
  return parsed;
};
const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Runs one command and turns its outcome into the documented exit code. */
const run =
  <A extends unknown[]>(action: (...args: A) => Promise<unknown>) =>
  async (...args: A) => {
    try {
      const code = await action(...args);
      process.exitCode = typeof code === 'number' ? code : exitCodes.ok;
    } catch (error) {
      const failure = error instanceof CliError ? error : explain(error);
      process.stderr.write(`data-uploader: ${failure.message}\n`);
      process.exitCode = failure.exitCode;
    }
  };

export function program(): Command {
  const cli = new Command('data-uploader')
    .description('Upload field-sensor recordings to the Data Uploader (resumable, verified against the bucket).')
    .option('--server <url>', 'server URL (default: DATA_UPLOADER_SERVER, or the one stored by login)')
    .option('--token <token>', 'API token (default: DATA_UPLOADER_TOKEN, or the one stored by login)')
    .showHelpAfterError()
    .exitOverride();
  // Flags may stand before or after the command name, as scripts write them.
  const global = (command: Command) => ({ ...cli.opts(), ...command.optsWithGlobals() });

  cli
    .command('login')
    .description('sign in and store an API token (0600) in the config directory')
    .option('--username <name>', 'username (asked otherwise); the password is asked, or read from stdin')
    .action(run(async (_options, command: Command) => login(global(command))));
  cli
    .command('logout')
    .description('revoke the stored token and delete it')
    .action(run(async (_options, command: Command) => logout(global(command))));
  cli
    .command('whoami')
    .option('--json', 'JSON output')
    .action(run(async (_options, command: Command) => whoami(global(command))));
  cli
    .command('projects')
    .description('projects the token can see')
    .option('--json', 'JSON output')
    .action(run(async (_options, command: Command) => projects(global(command))));
  cli
    .command('cycles')
    .description('cycles of a project')
    .requiredOption('--project <name|id>', 'project')
    .option('--json', 'JSON output')
    .action(run(async (_options, command: Command) => cycles(global(command) as Parameters<typeof cycles>[0])));
  cli
    .command('sessions')
    .description('recent upload sessions, newest first')
    .option('--project <name|id>', 'only this project')
    .option('--cycle <name|id>', 'only this cycle (with --project)')
    .option('--limit <n>', 'how many', wholeNumber(1), 20)
    .option('--json', 'JSON output')
    .action(run(async (_options, command: Command) => sessions(global(command) as Parameters<typeof sessions>[0])));
  cli
    .command('upload')
    .description('upload a folder; run it again after an interruption to resume')
    .argument('[dir]', 'folder to upload (or local_directory of --config)')
    .option('--project <name|id>', 'project')
    .option('--cycle <name|id>', 'cycle')
    .option('--label <text>', 'label of the upload session')
    .option('--concurrency <n>', 'simultaneous transfers', wholeNumber(1))
    .addOption(new Option('--retries <n>', 'retries per request').argParser(wholeNumber(0)).hideHelp())
    .option('--dry-run', 'plan against the ledger and move nothing')
    .option('--overwrite', 're-upload files already there with another size')
    .option('--include <glob>', 'only paths matching (repeatable)', collect)
    .option('--exclude <glob>', 'leave out paths matching (repeatable)', collect)
    .option('--json', 'one JSON event per line on stdout')
    .option('--follow-symlinks', 'follow symbolic links')
    .option('--new-session', 'do not continue an active session of this project and cycle')
    .option('--config <job.json>', 'a job file of the earlier Python uploader')
    .action(
      run(async (dir: string | undefined, _options, command: Command) => upload(dir, global(command) as UploadFlags)),
    );
  cli
    .command('verify')
    .description('compare the ledger of a cycle with its bucket; exit 1 if they differ')
    .requiredOption('--project <name|id>', 'project')
    .requiredOption('--cycle <name|id>', 'cycle')
    .option('--json', 'JSON output')
    .action(run(async (_options, command: Command) => verify(global(command) as Parameters<typeof verify>[0])));
  return cli;
}

export async function main(argv = process.argv) {
  const cli = program();
  try {
    await cli.parseAsync(argv);
  } catch (error) {
    // exitOverride: commander's own usage errors (and --help / --version) arrive here.
    const code = (error as { exitCode?: number; code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') {
      process.exitCode = exitCodes.ok;
    } else {
      process.exitCode = exitCodes.usage;
    }
  }
}

await main();
