import project from '../../package.json' with { type: 'json' };

/** The tool that writes the machine formats (plan documents, SARIF, JUnit): its name and version, from package.json. */
export const TOOL = { name: project.name, version: project.version } as const;
