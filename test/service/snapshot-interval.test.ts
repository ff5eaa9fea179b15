import { describe, expect, it } from 'vitest';
import { snapshotInterval } from '../../src/service/processor.js';

describe('how often correlation state is saved', () => {
  it('every second while saving is cheap; a state that takes long to save, so that it costs 5 % of the time', () => {
    expect(snapshotInterval(0)).toBe(1000);
    expect(snapshotInterval(50)).toBe(1000);
    expect(snapshotInterval(200)).toBe(4000);
    expect(snapshotInterval(1500)).toBe(30_000);
  });
});
