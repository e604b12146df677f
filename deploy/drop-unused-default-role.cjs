'use strict';

/**
 * osls always compiles a default Lambda role (`IamRoleLambdaExecution`); serverless-iam-roles-per-function copies it
 * as the template of each function's own role and leaves it in the stack, unused. This plugin (listed after that one:
 * same hook, plugin order) removes it once no function uses it, and fails the packaging if anything still refers to it.
 */
class DropUnusedDefaultRole {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.drop() };
  }

  drop() {
    const provider = this.serverless.getProvider('aws');
    const roleId = provider.naming.getRoleLogicalId();
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const resources = template.Resources ?? {};
    if (!resources[roleId]) return;
    const { [roleId]: _role, ...others } = resources;
    const text = JSON.stringify({ ...template, Resources: others });
    if (text.includes(`"${roleId}"`)) {
      throw new Error(
        `${roleId} is still referred to (a function without iamRoleStatements?); not removing it. Give every function its own role.`,
      );
    }
    delete resources[roleId];
  }
}

module.exports = DropUnusedDefaultRole;
