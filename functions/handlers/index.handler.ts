// placeholder until the handlers land: the CDK app bundles this entry.
export const handler = async (): Promise<void> => {};
