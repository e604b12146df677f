// Imported first by every CLI entry (through cli/quiet-logs.ts, or directly). On Node 20 the AWS SDK for JavaScript
// v3 warns that its releases after the first week of January 2027 require Node 22 (NodeVersionSupportWarning), once
// per process: every CLI run, `npm start` and test file would print it. The SDK's documented switch turns off that
// one warning (https://github.com/aws/aws-sdk-js-v3/issues/7983); every other warning (deprecations, experimental
// features, the SDK's own others) is printed as usual. AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false in the
// environment brings it back. On Node 22 or newer the SDK does not warn at all.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
