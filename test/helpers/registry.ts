/** The local registry's test helpers, as the registry package gives them to its users. */
export * from '@ecr-automation/local-registry/testing';
