#!/usr/bin/env node
// Entry of the `invite-sync` command: runs the TypeScript CLI through tsx (no build step).
// The AWS SDK's Node 20 support notice is not for our users: keep it out of their terminal.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { register } = await import('tsx/esm/api');
register();
await import('../cli/main.ts');
