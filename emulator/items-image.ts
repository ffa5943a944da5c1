// emulator state (invite collection answers) --> ItemsImage: the bytes of an unfiltered invite list, kept up to date per insert, answered without serializing or copying it
//
// Every collection answer holds every invite, and every invite's `ttl` moves with the clock, so no
// two answers are the same bytes; what stays the same is everything but the ttl digits. The image
// keeps the list once as bytes (`master`) and lends out copies of it (`Copy`). An answer is taken at
// its effect (`snapshot`: which part of the list, which clock reading; nothing is written then) and
// made when it is sent (`chunks`): a copy with the items inserted since it last went out copied in,
// and only the ttl digits that changed since then rewritten (usually the last two or three of each).
// The bytes go to the socket straight from the copy; the copy comes back (`release`) once the socket
// has taken them, and no answer shares a copy another answer may still rewrite. So an answer costs a
// short loop over the ttls, not a serialization and not a copy of the whole body.
//
// Positions are logical: item `L` and byte `b` keep their numbers while the storage around them is
// regrown (physical index = L + origin, physical byte = b + shift). New items get numbers below the
// first (head) or past the last (tail), so the part of the list an earlier snapshot covers never
// changes, and a copy made before a regrow still lines up.
import { Buffer } from 'node:buffer';

/** One item as the image needs it: its JSON pieces around the ttl, and what the ttl is made of. */
export interface ImageItem {
  /** the item's JSON up to and including `"ttl":` (the image adds the comma between items) */
  head: string;
  /** after the ttl digits when the invite is live: `,"hasExpired":false,…}` */
  live: string;
  /** after the ttl digits when it has expired: `,"hasExpired":true,…}` */
  expired: string;
  /** epoch ms at which the invite runs out (inviteDate + lifetime) */
  due: number;
  /** a seed's or addInvite's hasExpired; undefined: by the clock */
  override: boolean | undefined;
}

/** An answer body in pieces, written in order; released once the socket has taken them (or the answer is dropped). */
export interface AnswerBody {
  /** total bytes */
  length: number;
  /** the pieces; made on the first call, with the state and clock reading of the moment the body was taken */
  chunks(): readonly Buffer[];
  /** gives back what the pieces are lent from; idempotent */
  release(): void;
}

/** A duplicate of the master bytes, idle or lent out; `buf[0]` is logical byte `base`. */
interface Copy {
  buf: Buffer;
  base: number;
  /** logical bytes it holds (non-ttl bytes as master has them) */
  start: number;
  end: number;
  /** items whose ttl digits it holds for `at`; the others' digits are unknown */
  rlo: number;
  rhi: number;
  at: number;
  /** answers holding it (0: idle) */
  refs: number;
}

/** What a snapshot covers: logical bytes and items, and the clock reading. */
interface Taken {
  start: number;
  end: number;
  lo: number;
  hi: number;
  at: number;
}

/** ttl digit counts: POW10[w] is the first number with w + 1 digits. */
const POW10 = [1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];
/** ttls above this leave the image (the digit loops work in 31-bit integers) */
const MAX_TTL = 0x7fffffff;

/** A whole ttl's digit count, or 0 for a ttl the image cannot hold (a fraction, negative, too large). */
function digits(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_TTL) return 0;
  let w = 1;
  while (n >= (POW10[w] as number)) w++;
  return w;
}

function ttlOf(due: number, override: boolean | undefined, nowMs: number): { ttl: number; hasExpired: boolean } {
  const remaining = Math.max(0, due - nowMs);
  const hasExpired = override ?? remaining === 0;
  return { ttl: hasExpired ? 0 : remaining, hasExpired };
}

/**
 * The first clock reading (≥ now) at which the item's JSON stops matching what was written for it,
 * other than in its ttl digits' values: its ttl loses a digit, or it runs out. Infinity: never (an
 * expired invite stays expired with ttl 0; a live one by override keeps ttl 0 once there).
 */
function changesAt(due: number, override: boolean | undefined, w: number, hasExpired: boolean): number {
  if (hasExpired) return Number.POSITIVE_INFINITY;
  // ttl = due - t has w digits while it is ≥ 10^(w-1)
  if (w > 1) return due - (POW10[w - 1] as number) + 1;
  return override === undefined ? due : Number.POSITIVE_INFINITY;
}

/**
 * Idle copies of every image of one emulator count against one budget: a copy is as big as its list,
 * and a bench makes many large orgs. Over budget, the idle copies of the least recently answered
 * images go first; a copy released while over budget is dropped rather than kept.
 */
export class CopyBudget {
  bytes = 0;
  private readonly recent = new Set<ItemsImage>();

  constructor(readonly cap: number) {}

  /** `image` answered now (most recent last). */
  touch(image: ItemsImage): void {
    this.recent.delete(image);
    this.recent.add(image);
  }

  forget(image: ItemsImage): void {
    this.recent.delete(image);
  }

  /** Drops idle copies of other images, oldest first, until `size` more bytes fit (or none are left). */
  makeRoom(size: number, except: ItemsImage): void {
    for (const image of this.recent) {
      if (this.bytes + size <= this.cap) return;
      if (image !== except) image.dropIdle();
    }
  }
}

/**
 * The bytes of one unfiltered invite list (`item,item,…`, no brackets) in one answer order, with room
 * to grow at both ends: a new invite that sorts first or last is written into the room. Any other
 * change of the list, and a clock reading at which a ttl has lost a digit or an invite has run out
 * (`validAt` false), makes the owner drop the image and build a new one.
 */
export class ItemsImage {
  /** logical bytes [start, end) at master[start + shift, end + shift); the ttl digits in master are as of each item's insert */
  private master: Buffer = Buffer.alloc(0);
  private shift = 0;
  private start = 0;
  private end = 0;
  /** logical items [lo, hi) at physical index L + origin: logical byte offset of its ttl digits, their count, expired as written, due */
  private lo = 0;
  private hi = 0;
  private origin = 0;
  private ttlAt = new Float64Array(0);
  private width = new Uint8Array(0);
  private expired = new Uint8Array(0);
  private due = new Float64Array(0);
  /** the clock readings the bytes hold for: from the last insert until the first item changes (see changesAt) */
  private validFrom = Number.NEGATIVE_INFINITY;
  private validUntil = Number.POSITIVE_INFINITY;
  private readonly idle: Copy[] = [];
  /** the copy the latest answer went out in (shared by an answer of the same part and clock reading) */
  private latest: Copy | undefined;
  private disposed = false;

  private constructor(private readonly budget: CopyBudget) {}

  get count(): number {
    return this.hi - this.lo;
  }

  /** The image of `items` (answer order) at `nowMs`; undefined when a ttl cannot be held (a fraction, an odd clock). */
  static build(items: readonly ImageItem[], nowMs: number, budget: CopyBudget): ItemsImage | undefined {
    if (!Number.isInteger(nowMs)) return undefined;
    const image = new ItemsImage(budget);
    const n = items.length;
    image.arrays(n);
    const texts: string[] = new Array<string>(3 * n);
    let bytes = 0;
    for (let k = 0; k < n; k++) {
      const item = items[k] as ImageItem;
      const { ttl, hasExpired } = ttlOf(item.due, item.override, nowMs);
      const w = digits(ttl);
      if (w === 0) return undefined;
      const head = k === 0 ? item.head : `,${item.head}`;
      const tail = hasExpired ? item.expired : item.live;
      const headBytes = Buffer.byteLength(head, 'utf8');
      texts[3 * k] = head;
      texts[3 * k + 1] = String(ttl);
      texts[3 * k + 2] = tail;
      image.set(image.hi++, bytes + headBytes, w, hasExpired, item);
      bytes += headBytes + w + Buffer.byteLength(tail, 'utf8');
    }
    image.master = Buffer.from(texts.join(''), 'utf8');
    image.end = image.master.length;
    image.validFrom = nowMs;
    image.regrow(4096);
    return image;
  }

  private set(L: number, at: number, w: number, hasExpired: boolean, item: ImageItem): void {
    const k = L + this.origin;
    this.ttlAt[k] = at;
    this.width[k] = w;
    this.expired[k] = hasExpired ? 1 : 0;
    this.due[k] = item.due;
    this.validUntil = Math.min(this.validUntil, changesAt(item.due, item.override, w, hasExpired));
  }

  /** (Re)allocates the per-item arrays with room for `more` items (at least) at each end. */
  private arrays(more: number): void {
    const n = this.count;
    const room = Math.max(16, more, n >> 1);
    const from = this.lo + this.origin;
    const origin = room - this.lo;
    const move = <T extends Float64Array | Uint8Array>(old: T, make: (size: number) => T): T => {
      const next = make(n + 2 * room);
      next.set(old.subarray(from, from + n), room);
      return next;
    };
    this.ttlAt = move(this.ttlAt, (s) => new Float64Array(s));
    this.width = move(this.width, (s) => new Uint8Array(s));
    this.expired = move(this.expired, (s) => new Uint8Array(s));
    this.due = move(this.due, (s) => new Float64Array(s));
    this.origin = origin;
  }

  /** Moves master into a buffer with room for `need` more bytes (at least) at each end. */
  private regrow(need: number): void {
    const used = this.end - this.start;
    const room = Math.max(need, used >> 1, 4096);
    const buf = Buffer.allocUnsafeSlow(used + 2 * room);
    this.master.copy(buf, room, this.start + this.shift, this.end + this.shift);
    this.master = buf;
    this.shift = room - this.start;
  }

  /**
   * Writes a new item at the head (it sorts first in answer order) or the tail (last). False: the
   * image cannot hold its ttl; the owner drops the image.
   */
  add(item: ImageItem, atHead: boolean, nowMs: number): boolean {
    if (!Number.isInteger(nowMs)) return false;
    const { ttl, hasExpired } = ttlOf(item.due, item.override, nowMs);
    const w = digits(ttl);
    if (w === 0) return false;
    const first = this.count === 0;
    // an empty image grows at its head: only a tail insert needs the comma before it
    const head = Buffer.from(atHead ? item.head : `,${item.head}`, 'utf8');
    const tail = Buffer.from(`${hasExpired ? item.expired : item.live}${atHead && !first ? ',' : ''}`, 'utf8');
    const size = head.length + w + tail.length;
    if (atHead ? this.start + this.shift < size : this.master.length - (this.end + this.shift) < size) this.regrow(size);
    const at = atHead ? this.start - size : this.end;
    const p = at + this.shift;
    head.copy(this.master, p);
    this.master.write(String(ttl), p + head.length, 'latin1');
    tail.copy(this.master, p + head.length + w);
    if (atHead ? this.lo + this.origin === 0 : this.hi + this.origin === this.ttlAt.length) this.arrays(1);
    this.set(atHead ? --this.lo : this.hi++, at + head.length, w, hasExpired, item);
    if (atHead) this.start = at;
    else this.end = at + size;
    this.validFrom = Math.max(this.validFrom, nowMs);
    return true;
  }

  /** True when the bytes hold for this clock reading (no ttl lost a digit, no invite ran out, no fraction). */
  validAt(nowMs: number): boolean {
    return !this.disposed && Number.isInteger(nowMs) && nowMs >= this.validFrom && nowMs < this.validUntil;
  }

  /**
   * The list as it is now, at `nowMs` (validAt must hold), between `head` and `tail`. Nothing is
   * written until `chunks()`: later inserts fall outside the part this body covers.
   */
  snapshot(nowMs: number, head: Buffer, tail: Buffer): AnswerBody {
    const taken: Taken = { start: this.start, end: this.end, lo: this.lo, hi: this.hi, at: nowMs };
    let parts: Buffer[] | undefined;
    let giveBack: (() => void) | undefined;
    return {
      length: head.length + (taken.end - taken.start) + tail.length,
      chunks: () => {
        if (!parts) {
          const { copy, release } = this.render(taken);
          giveBack = release;
          parts = [head, copy.buf.subarray(taken.start - copy.base, taken.end - copy.base), tail];
        }
        return parts;
      },
      release: () => {
        giveBack?.();
        giveBack = undefined;
      },
    };
  }

  /** A copy holding the taken part of the list with its ttl digits for the taken clock reading, lent until `release`. */
  private render(t: Taken): { copy: Copy; release: () => void } {
    if (!this.disposed) this.budget.touch(this);
    const shared = this.latest;
    if (shared && shared.refs > 0 && shared.at === t.at && shared.rlo === t.lo && shared.rhi === t.hi) return this.lend(shared);
    let c = this.idle.pop();
    if (c) this.budget.bytes -= c.buf.length;
    if (c && (t.start < c.base || t.end > c.base + c.buf.length)) c = undefined;
    if (!c) {
      // room for the inserts of a while: the next answers reuse it
      const used = this.end - this.start;
      const slack = Math.max(64 * 1024, used >> 3);
      this.budget.makeRoom(used + 2 * slack, this);
      c = { buf: Buffer.allocUnsafeSlow(used + 2 * slack), base: this.start - slack, start: this.start, end: this.end, rlo: 0, rhi: 0, at: Number.NaN, refs: 0 };
      this.master.copy(c.buf, slack, this.start + this.shift, this.end + this.shift);
    } else {
      // the items inserted since the copy last went out, as master has them
      if (t.start < c.start) this.master.copy(c.buf, t.start - c.base, t.start + this.shift, c.start + this.shift);
      if (c.end < t.end) this.master.copy(c.buf, c.end - c.base, c.end + this.shift, t.end + this.shift);
      c.start = Math.min(c.start, t.start);
      c.end = Math.max(c.end, t.end);
    }
    this.writeTtls(c, t);
    c.rlo = t.lo;
    c.rhi = t.hi;
    c.at = t.at;
    this.latest = c;
    return this.lend(c);
  }

  /**
   * Rewrites the copy's ttl digits of the taken items for the taken clock reading: all digits of an
   * item whose digits it does not hold, only those that moved of the rest. Widths and expiry hold
   * for both readings (validAt at each snapshot), so old and new ttl have the same digit count.
   */
  private writeTtls(c: Copy, t: Taken): void {
    const { ttlAt, width, expired, due, origin } = this;
    const { buf, base } = c;
    const then = c.at;
    const known = Number.isNaN(then) ? 0 : 1;
    const now = t.at;
    for (let L = t.lo; L < t.hi; L++) {
      const k = L + origin;
      const w = width[k] as number;
      let p = (ttlAt[k] as number) - base + w - 1;
      if (expired[k] === 1) {
        // ttl 0 then and now
        if (known === 0 || L < c.rlo || L >= c.rhi) buf[p] = 48;
        continue;
      }
      const d = due[k] as number;
      let ttl = (d > now ? d - now : 0) | 0;
      if (known === 0 || L < c.rlo || L >= c.rhi) {
        for (let left = w; left > 0; left--) {
          buf[p--] = 48 + (ttl % 10);
          ttl = (ttl / 10) | 0;
        }
      } else {
        // only the digits below the highest one that moved change
        let old = (d > then ? d - then : 0) | 0;
        while (old !== ttl) {
          buf[p--] = 48 + (ttl % 10);
          ttl = (ttl / 10) | 0;
          old = (old / 10) | 0;
        }
      }
    }
  }

  private lend(c: Copy): { copy: Copy; release: () => void } {
    c.refs++;
    let done = false;
    return {
      copy: c,
      release: () => {
        if (done) return;
        done = true;
        if (--c.refs > 0) return;
        if (this.latest === c) this.latest = undefined;
        if (this.disposed || this.budget.bytes + c.buf.length > this.budget.cap) return;
        this.idle.push(c);
        this.budget.bytes += c.buf.length;
      },
    };
  }

  /** Lets go of the idle copies (they are made again on demand). */
  dropIdle(): void {
    for (const c of this.idle) this.budget.bytes -= c.buf.length;
    this.idle.length = 0;
  }

  /** The owner dropped the image. Bodies already taken from it are still made from it; nothing else is. */
  dispose(): void {
    this.disposed = true;
    this.dropIdle();
    this.budget.forget(this);
  }
}
