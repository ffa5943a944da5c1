// test --> MemoryStateStore: the store contract (the same suite DynamoStateStore passes on DynamoDB Local)
import { describe, expect, it } from 'vitest';
import { describeStoreContract, newTarget, person } from '../helpers/store-contract.ts';
import { MemoryStateStore } from '../helpers/memory-store.ts';

describeStoreContract('MemoryStateStore', ({ now }) => {
  const store = new MemoryStateStore({ now });
  return {
    store,
    async blockedSnapshot(source, snapshotId) {
      return store.blockedSnapshots().find((b) => b.source === source && b.snapshotId === snapshotId);
    },
  };
});

describe('Function: MemoryStateStore.beforeNext', () => {
  it('runs the hook once, just before the next call of that method', async () => {
    // Prepare
    const store = new MemoryStateStore();
    const target = newTarget();
    const lease = await store.acquireLease(target, 'a', 60);
    if (!lease) throw new Error('lease expected');
    store.beforeNext('releaseLease', () => store.markDirty([target]));

    // Act
    const first = await store.releaseLease(lease);
    const second = await store.releaseLease(lease);

    // Assess
    expect([first, second]).toEqual(['dirty', 'released']);
  });

  it('hands out copies: changing what a read returned changes nothing stored', async () => {
    const store = new MemoryStateStore();
    await store.applyPersonEvent('hr', person(1), new Date().toISOString());

    const [read] = await store.listPeople();
    if (read) read.attributes.department = 'changed';

    expect((await store.listPeople())[0]?.attributes).toEqual({ department: 'sales' });
  });
});
