/**
 * @ecr-automation/local-registry: an ECR-compatible registry and EventBridge-like bus on loopback. What its users
 * (the local wiring, the tests, the benchmarks) start and hold: the server, its bus, fixtures (what runs on ECS and
 * Lambda included) and the demo, and the manifest builders that make images to push. The registry's own pattern matchers are the `./matching` subpath.
 */

export type { BusEvent, BusTarget, EventBus, LambdaLikeContext, RuleSpec } from './bus/event-bus.ts';
export {
  DEMO_FINDINGS,
  DEMO_ORGANIZATION,
  demoFixture,
  demoOrganizationFixtures,
  loadDemoOrganization,
} from './control/demo.ts';
export type {
  Fixture,
  FixtureImage,
  FixtureImageKind,
  FixturePublicRepository,
  FixtureRepository,
  LoadedFixture,
  LoadedImage,
} from './control/fixtures.ts';
export { loadFixture, loadFixtureWithContent } from './control/fixtures.ts';
export { buildContentImage, buildContentReferrer, type ContentImage } from './model/content-images.ts';
export type { Descriptor, ImageManifestSpec } from './model/manifests.ts';
export {
  ARTIFACT_TYPES,
  buildImageManifest,
  buildIndexManifest,
  buildReferrerManifest,
  describeManifest,
  MEDIA_TYPES,
  sha256,
} from './model/manifests.ts';
export { DataDirInUseError } from './persist/data-dir.ts';
export { JournalCorruptError } from './persist/journal.ts';
export { SnapshotFileError } from './persist/snapshot.ts';
export type { StorageFixture } from './storage/fixture.ts';
export { MAX_OBJECT_BYTES, MAX_TOTAL_BYTES } from './storage/state.ts';
export type { MountedHandler, RegistryServer } from './wire/registry-server.ts';
export {
  DEFAULT_COMPACT_BYTES,
  type RegistryServerOptions,
  ReplayError,
  startRegistryServer,
} from './wire/server.ts';
export type {
  FixtureCluster,
  FixtureFunction,
  FixtureImageReference,
  FixtureTaskDefinition,
  WorkloadFixture,
} from './workloads/fixture.ts';
