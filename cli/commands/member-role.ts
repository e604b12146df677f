import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { memberRoleTemplate } from '../../service/member-role.ts';
import { loadServiceConfig } from '../../shared/config/file.ts';

const USAGE = 'usage: npm run member-role -- [--config FILE[,FILE...]] [--out FILE]';

export interface MemberRoleIo {
  stdout(text: string): void;
  stderr(line: string): void;
}

/** The template's text as the CLI writes it (and as `deploy/member-role.template.json` is committed). */
export const memberRoleTemplateText = (template: unknown) => `${JSON.stringify(template, null, 2)}\n`;

/**
 * `npm run member-role -- [--config FILE] [--out FILE]`: the CloudFormation template of the role the member accounts
 * deploy (`service/member-role.ts`), for the config the service runs with (`--config`, as `CONFIG_FILE` names it;
 * default the bundled config), written to `--out` or printed. The exit code: 0 written, 1 a config without
 * `targets` or invalid, 2 a bad command line.
 */
export function runMemberRole(args: readonly string[], io: MemberRoleIo): number {
  let values: { config?: string; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { config: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.stderr(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  let text: string;
  try {
    const config = loadServiceConfig(values.config === undefined ? {} : { CONFIG_FILE: values.config });
    text = memberRoleTemplateText(memberRoleTemplate(config));
  } catch (error) {
    io.stderr(error instanceof Error ? error.message : String(error));
    return 1;
  }
  if (values.out === undefined) {
    io.stdout(text);
    return 0;
  }
  writeFileSync(values.out, text);
  io.stderr(`wrote ${values.out}`);
  return 0;
}
