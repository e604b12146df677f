import { runMemberRole } from './commands/member-role.ts';

/** `npm run member-role -- [--config FILE] [--out FILE]`: the member accounts' role, as a CloudFormation template. */
process.exitCode = runMemberRole(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (line) => process.stderr.write(`${line}\n`),
});
