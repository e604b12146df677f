import { type CompliancePlan, tallyChecks } from '../policy/compliance/plan.ts';
import { type DriftRow, REPORT_VERSION, type Report, type SummaryLine } from './model.ts';

/**
 * The HTML report of a compliance plan: how many repositories were checked, compliant and drifting, the same per
 * check, and one row per repository and setting its rule checks, with the actual and wanted values and the fix
 * enforce mode would make. Pure: the plan in, the report's data out.
 */
export function compliancePicture(plan: CompliancePlan): Report {
  const rows: DriftRow[] = [];
  const byRule = new Map<number, SummaryLine>();
  for (const repository of plan.repositories) {
    const rule = `rule #${repository.ruleIndex}`;
    const ruleLine = byRule.get(repository.ruleIndex) ?? {
      name: rule,
      total: 0,
      toDelete: 0,
      toArchive: 0,
      kept: 0,
      bytesToDelete: 0,
      brake: repository.mode,
    };
    ruleLine.total++;
    if (repository.compliant) ruleLine.kept++;
    else ruleLine.toDelete++;
    byRule.set(repository.ruleIndex, ruleLine);
    for (const setting of repository.settings) {
      rows.push({
        repository: repository.repository,
        rule,
        mode: repository.mode,
        check: setting.check,
        status: setting.status,
        actual: setting.actual,
        wanted: setting.wanted,
        fix: setting.status === 'compliant' ? '' : (setting.fix ?? 'none: not fixable, fix by hand'),
        detail: setting.details.join('; '),
      });
    }
  }
  const drifting = plan.repositories.filter((repository) => !repository.compliant).length;
  const checked = plan.repositories.length;
  const enforce = plan.repositories.filter((repository) => repository.mode === 'enforce').length;
  return {
    version: REPORT_VERSION,
    kind: 'compliance',
    title: `Compliance plan of ${plan.createdAt}`,
    facts: [
      { name: 'Planned at', value: plan.createdAt },
      { name: 'Region', value: plan.region },
      { name: 'Endpoint', value: plan.endpoint ?? 'AWS' },
    ],
    summary: {
      total: checked,
      toDelete: drifting,
      toArchive: 0,
      kept: checked - drifting,
      bytesToDelete: 0,
      brake: `${enforce} of ${checked} repositories under enforce-mode rules`,
      byRepository: [],
      byRule: [...byRule.values()].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true })),
      columns: { total: 'Repositories checked', toDelete: 'Drifting', kept: 'Compliant' },
    },
    rows: [],
    graphs: [],
    notes: plan.withoutRule.map((name) => `${name}: matched by --repository but by no enabled compliance rule`),
    compliance: {
      listed: plan.listed,
      checked,
      compliant: checked - drifting,
      drifting,
      checks: tallyChecks(plan),
      rows,
    },
  };
}
