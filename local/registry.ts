/**
 * What the CLIs take from the local registry: cli/ imports nothing of the registry package directly, only through
 * the local wiring (`local/`), which alone of the service's folders may depend on it.
 */
export { buildContentImage, buildImageManifest, DEMO_FINDINGS, sha256 } from '@ecr-automation/local-registry';
