import { writeFileSync } from 'node:fs';
import { serviceConfigJsonSchema } from '../shared/config/schema.ts';

/** `npm run config:schema`: writes the config file's JSON Schema (for editors) to config/config.schema.json. */
const path = process.argv[2] ?? 'config/config.schema.json';
writeFileSync(path, `${JSON.stringify(serviceConfigJsonSchema(), null, 2)}\n`);
console.log(`wrote ${path}`);
