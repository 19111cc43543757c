// Espruino's Storage file system (src/jsflash.c, src/jswrap_storage.c) on the NOR flash model of
// flash.mjs, with the same on-flash layout: a 32-byte header (size | flags<<24, 28-byte 0-padded
// name) then the data, 4-byte aligned (JSF_ALIGNMENT 4), files allowed to straddle pages.
// Reproduced rules:
//  - names are cut to 28 chars (jsfNameFromVar copies into a 28-byte buffer: longer names are
//    silently truncated, so two long names with the same first 28 chars are the same file);
//  - write(name, data) with offset 0 replaces the file (old one marked erased by zeroing its
//    first name bytes, new one appended after the last file) unless the content is identical;
//  - write(name, data, 0, size) reserves `size` bytes (0xFF); later writes at offset>0 may only
//    go to bytes that are still 0xFF: "File already written with different data" otherwise;
//    "Too much data for file size", "Can't create zero length file";
//  - erased files are trash until compact() or until space runs out (then an automatic compact,
//    which prints "Compacting...");
//  - StorageFile (open) stores "name\1", "name\2"... chunks of 4064 bytes (4096 - header) and finds
//    its end by the first 0xFF byte.
//  - data is programmed as jshFlashWriteAligned (jshardware_common.c) does: an unaligned start and
//    an unaligned end are each one 4-byte word write (the word's other bytes as read back), the
//    aligned middle one write; file headers and erase marks are single writes (jshFlashWrite);
//  - compact() is jsfCompactInternal: files are streamed down through a swap buffer of at most a
//    page + a header, each page erased just before it is written, the pages left over erased at
//    the end. Not power-safe on the board either: a cut after a page erase loses what was in RAM.

import { bytesToString, stringToBytes } from './bytes.mjs';
import { espruinoStringify, parseLiberal } from './ejson.mjs';

const HEADER = 32;
const NAME_LEN = 28;
const WORD_UNSET = 0xffffffff;
const JSFF_STORAGEFILE = 64;
const JSFF_COMPRESSED = 128;
export const STORAGEFILE_CHUNKSIZE = 4096 - HEADER; // jswrap_storage.c:32

const align = (a) => (a + 3) & ~3;

export function createJsf(flash, { log } = {}) {
  const end = flash.size;
  const page = flash.pageSize;

  const u32 = (addr) => {
    const b = flash.mem;
    return (b[addr] | (b[addr + 1] << 8) | (b[addr + 2] << 16) | (b[addr + 3] << 24)) >>> 0;
  };
  const fileSize = (h) => h.size & 0x00ffffff;
  const fileFlags = (h) => h.size >>> 24;

  function header(addr) {
    if (addr === null || addr + HEADER > end) return null;
    const size = u32(addr);
    const h = { size, firstChars: u32(addr + 4), name: flash.mem.slice(addr + 4, addr + 4 + NAME_LEN) };
    const valid = size !== WORD_UNSET && size !== 0 && addr + HEADER + fileSize(h) <= end;
    return valid ? h : null;
  }
  const nextPage = (addr) => {
    const a = addr - (addr % page) + page;
    return a >= end ? null : a;
  };
  // jsfGetNextFileHeader: returns { addr, h } (h null if no valid header there) or null (no room)
  function next(addr, h, all) {
    let n = align(addr + fileSize(h) + HEADER);
    if (n + HEADER > end) return null;
    let nh = header(n);
    if (all && !nh) {
      n = nextPage(n);
      if (n === null) return null;
      nh = header(n);
    }
    return { addr: n, h: nh };
  }
  function* files() {
    let addr = 0;
    let h = header(0);
    while (h) {
      yield { addr, h };
      const r = next(addr, h, true);
      if (!r || !r.h) return;
      addr = r.addr;
      h = r.h;
    }
  }
  const isReal = (h) => h.firstChars !== 0 && [0, JSFF_STORAGEFILE, JSFF_COMPRESSED].includes(fileFlags(h));
  const nameEq = (a, b) => a.every((x, i) => x === b[i]);

  function nameBytes(name) {
    const s = String(name);
    const out = new Uint8Array(NAME_LEN);
    for (let i = 0; i < NAME_LEN && i < s.length; i++) out[i] = s.charCodeAt(i) & 255;
    return out;
  }
  function nameString(b) {
    let s = '';
    for (let i = 0; i < NAME_LEN && b[i]; i++) s += String.fromCharCode(b[i]);
    return s;
  }

  function find(nb) {
    for (const { addr, h } of files()) {
      if (h.firstChars !== 0 && nameEq(h.name, nb)) return { addr: addr + HEADER, h };
    }
    return null;
  }
  function isErased(addr, len) {
    for (let i = 0; i < len; i++) if (flash.mem[addr + i] !== 0xff) return false;
    return true;
  }
  // jshFlashWriteAligned (src/jshardware_common.c)
  function writeAligned(addr, data) {
    let i = 0;
    let len = data.length;
    const off = addr & 3;
    if (off) {
      const w = flash.read(addr - off, 4);
      const n = Math.min(4 - off, len);
      for (let k = 0; k < n; k++) w[off + k] = data[k];
      flash.write(addr - off, w);
      if (n >= len) return;
      i = n;
      addr += n;
      len -= n;
    }
    const rest = len & 3;
    const mid = len - rest;
    if (mid) flash.write(addr, Array.prototype.slice.call(data, i, i + mid));
    if (rest) {
      const w = flash.read(addr + mid, 4);
      for (let k = 0; k < rest; k++) w[k] = data[i + mid + k];
      flash.write(addr + mid, w);
    }
  }
  function eraseAt(dataAddr) {
    flash.write(dataAddr - HEADER + 4, [0, 0, 0, 0]);
  }
  function spaceLeftInPage(addr) {
    let np = addr - (addr % page) + page;
    if (np < end && !header(np)) np = end;
    return Math.min(np, end) - addr;
  }

  function stats() {
    const s = { fileBytes: 0, fileCount: 0, trashBytes: 0, trashCount: 0, total: end, free: 0, firstPageWithErasedFiles: null };
    let lastAddr = 0;
    let lastUnbroken = 0;
    for (const { addr, h } of files()) {
      if (addr % page === 0) lastUnbroken = addr;
      const sz = align(fileSize(h)) + HEADER;
      lastAddr = addr + sz;
      if (h.firstChars !== 0) {
        s.fileBytes += sz;
        s.fileCount++;
      } else {
        s.trashBytes += sz;
        s.trashCount++;
        if (s.firstPageWithErasedFiles === null) s.firstPageWithErasedFiles = lastUnbroken;
      }
    }
    s.free = end - lastAddr;
    return s;
  }

  // jsfBankCompact + jsfCompactInternal + jsfCompactWriteBuffer (src/jsflash.c): real files from
  // the first page holding trash (or rather the last page before it that starts with a header)
  // are streamed down through a circular swap buffer; a page is erased when the write pointer
  // reaches its start, and only once the read pointer has left it.
  function compact() {
    const st = stats();
    if (!st.trashBytes) return false;
    if (log) log('Compacting...');
    const size = Math.min(st.fileBytes, page + HEADER);
    const start = st.firstPageWithErasedFiles || 0;
    const buf = new Uint8Array(size);
    let writeAddress = start;
    let bufHead = 0;
    let bufTail = 0;
    let used = 0;
    const nextPageOrEnd = (a) => nextPage(a) ?? end;
    function writeBuffer(readAddress) {
      let nextFlashPage = nextPageOrEnd(writeAddress);
      while (used) {
        let s = used;
        if (s + bufTail > size) s = size - bufTail;
        if (s + writeAddress > nextFlashPage) s = nextFlashPage - writeAddress;
        if (readAddress < nextFlashPage) return; // still reading from that page
        if (writeAddress % page === 0) flash.erasePage(writeAddress);
        flash.write(writeAddress, buf.slice(bufTail, bufTail + s));
        writeAddress += s;
        nextFlashPage = nextPageOrEnd(writeAddress);
        bufTail = (bufTail + s) % size;
        used -= s;
      }
    }
    let addr = start;
    let h = header(addr);
    while (h) {
      if (isReal(h)) {
        for (const b of flash.read(addr, HEADER)) {
          // memcpy_circular of the header
          buf[bufHead] = b;
          bufHead = (bufHead + 1) % size;
        }
        used += HEADER;
        let alignedSize = align(fileSize(h));
        let ptr = addr + HEADER;
        writeBuffer(ptr);
        while (alignedSize) {
          let s = size - used;
          if (s > size - bufHead) s = size - bufHead;
          if (bufTail > bufHead && s > bufTail - bufHead) s = bufTail - bufHead;
          if (s === 0) return false; // "compact> error - no space left!"
          if (s > alignedSize) s = alignedSize;
          buf.set(flash.read(ptr, s), bufHead);
          alignedSize -= s;
          ptr += s;
          used += s;
          bufHead = (bufHead + s) % size;
          writeBuffer(ptr);
        }
      }
      const r = next(addr, h, true);
      addr = r ? r.addr : null;
      h = r ? r.h : null;
    }
    writeBuffer(end);
    if (writeAddress !== start) writeAddress = nextPage(writeAddress - 1);
    if (writeAddress !== null) {
      if (addr === null) addr = end;
      for (let a = writeAddress; a < addr; a += page) flash.erasePage(a); // jshFlashErasePages
    }
    return true;
  }

  function create(nb, size, flags) {
    const required = align(size) + HEADER;
    let compacted = false;
    for (;;) {
      let addr = 0;
      let freeSpace = 0;
      let trash = 0;
      let freeAddr = null;
      do {
        let h = header(addr);
        if (h) {
          for (;;) {
            if (h.firstChars === 0) trash += fileSize(h);
            const r = next(addr, h, false);
            if (!r) {
              addr = null;
              break;
            }
            addr = r.addr;
            if (!r.h) break;
            h = r.h;
          }
        }
        if (addr === null) break;
        const space = spaceLeftInPage(addr);
        freeSpace += space;
        if (space < required) addr = nextPage(addr);
        else freeAddr = addr;
      } while (addr !== null && freeAddr === null);
      if (freeAddr !== null) {
        const hdr = new Uint8Array(HEADER);
        const sz = (size | (flags << 24)) >>> 0;
        hdr[0] = sz & 255;
        hdr[1] = (sz >>> 8) & 255;
        hdr[2] = (sz >>> 16) & 255;
        hdr[3] = sz >>> 24;
        hdr.set(nb, 4);
        flash.write(freeAddr, hdr);
        return { addr: freeAddr + HEADER, h: header(freeAddr) };
      }
      if (!compacted && required < freeSpace + trash) {
        compacted = true;
        if (!compact()) return null;
      } else return null;
    }
  }

  /** jsfWriteFile. Throws Error(text) (caller maps to the firmware's Error). Returns true. */
  function writeFile(name, data, flags, offset, size) {
    if (offset < 0 || size < 0) return false;
    const nb = nameBytes(name);
    if (!size) size = data.length;
    if (!size) throw new Error("Can't create zero length file");
    let f = find(nb);
    if ((!f && offset === 0) || (f && offset === 0 && (flags !== fileFlags(f.h) || size !== fileSize(f.h) || !isErased(f.addr, size)))) {
      if (f && offset === 0 && size === fileSize(f.h) && flags === fileFlags(f.h) && data.length === size && data.every((b, i) => flash.mem[f.addr + i] === b))
        return true; // same content: nothing to do
      if (f) eraseAt(f.addr);
      f = create(nb, size, flags);
    }
    if (!f) throw new Error('Unable to find or create file');
    if (offset + data.length > fileSize(f.h)) throw new Error('Too much data for file size');
    const a = f.addr + offset;
    if (!isErased(a, data.length)) throw new Error('File already written with different data');
    writeAligned(a, data);
    return true;
  }

  function readFile(name, offset = 0, length = 0) {
    const f = find(nameBytes(name));
    if (!f) return null;
    const len = fileSize(f.h);
    if (offset < 0) offset = 0;
    if (length <= 0) length = len;
    if (offset > len) offset = len;
    if (offset + length > len) length = len - offset;
    if (length <= 0) return [];
    return Array.from(flash.read(f.addr + offset, length));
  }

  function eraseFile(name) {
    const f = find(nameBytes(name));
    if (!f) return false;
    eraseAt(f.addr);
    return true;
  }

  function list(containing, notContaining) {
    const out = [];
    for (const { h } of files()) {
      if (!isReal(h)) continue;
      const flags = fileFlags(h);
      if (notContaining & flags) continue;
      if (containing && !(containing & flags)) continue;
      let nb = h.name;
      if (flags & JSFF_STORAGEFILE) {
        let i = 0;
        while (i + 1 < NAME_LEN && nb[i + 1]) i++;
        if (nb[i] !== 1) continue;
        if (containing & JSFF_STORAGEFILE) {
          nb = nb.slice();
          nb[i] = 0;
        }
      }
      out.push(nameString(nb));
    }
    return out;
  }

  function eraseAll() {
    for (let a = 0; a < end; a += page) flash.erasePage(a); // jshFlashErasePages: every page
  }

  return {
    writeFile,
    readFile,
    eraseFile,
    list,
    stats,
    compact,
    eraseAll,
    find: (name) => find(nameBytes(name)),
    findBytes: find,
    nameBytes,
    fileSize,
    flash,
    writeAligned,
    /** host view: { name: binaryString } of live files (StorageFile chunks keep their \1.. suffix) */
    snapshot() {
      const o = {};
      for (const { addr, h } of files()) {
        if (isReal(h)) o[nameString(h.name)] = bytesToString(Array.from(flash.read(addr + HEADER, fileSize(h))));
      }
      return o;
    },
  };
}

/** The `Storage` module object for one boot. api: { R, bytes, errors, log } */
export function createStorageModule(jsf, api) {
  const { R, bytes, errors } = api;
  const isTyped = (v) => v instanceof Object.getPrototypeOf(R.Uint8Array);
  const wrap = (fn) => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof Error && !(e instanceof R.Error)) throw errors.error(e.message);
      throw e;
    }
  };
  const isPlainObject = (v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && !isTyped(v) && !(v instanceof R.ArrayBuffer) && !(v instanceof R.DataView);
  function dataBytes(d) {
    if (typeof d === 'string') return stringToBytes(d);
    if (typeof d === 'number' || typeof d === 'boolean') return stringToBytes(String(d));
    if (d === undefined || d === null) throw errors.error("Can't get pointer to data to write");
    return bytes.toByteArray(d);
  }
  const toStr = (b) => (b === null ? undefined : bytesToString(b));

  const S = new R.Object();
  const methods = {
    read(name, offset, length) {
      return toStr(jsf.readFile(name, Number(offset) | 0, Number(length) | 0));
    },
    readJSON(name, noExceptions) {
      const s = toStr(jsf.readFile(name));
      if (s === undefined) return undefined;
      try {
        const mk = (m) => new R.SyntaxError(m);
        mk.obj = () => new R.Object();
        mk.arr = () => new R.Array();
        return parseLiberal(s, mk);
      } catch (e) {
        if (noExceptions) return undefined;
        throw e;
      }
    },
    readArrayBuffer(name) {
      const b = jsf.readFile(name);
      return b === null ? undefined : bytes.arrayBuffer(b);
    },
    write(name, data, offset, size) {
      let off = Number(offset) | 0;
      let sz = Number(size) | 0;
      let d = data;
      if (isPlainObject(data)) {
        d = R.JSON.stringify(data);
        off = 0;
        sz = 0;
      }
      return wrap(() => jsf.writeFile(name, dataBytes(d), 0, off, sz));
    },
    writeJSON(name, data) {
      const s = espruinoStringify(data, isTyped);
      return wrap(() => jsf.writeFile(name, stringToBytes(s === undefined ? '' : s), 0, 0, 0));
    },
    list(regex, filter) {
      let containing = 0;
      let notContaining = 0;
      if (filter !== null && typeof filter === 'object' && 'sf' in filter) {
        if (filter.sf) containing |= JSFF_STORAGEFILE;
        else notContaining |= JSFF_STORAGEFILE;
      }
      const names = jsf.list(containing, notContaining).filter((n) => {
        if (regex === undefined || regex === null) return true;
        const m = String.prototype.match.call(n, regex);
        return m !== null && m !== undefined;
      });
      const a = new R.Array();
      for (const n of names) a.push(n);
      return a;
    },
    erase(name) {
      wrap(() => jsf.eraseFile(name));
    },
    eraseAll() {
      wrap(() => jsf.eraseAll());
    },
    compact() {
      wrap(() => jsf.compact());
    },
    getFree() {
      return jsf.stats().free;
    },
    getStats() {
      const s = jsf.stats();
      const o = new R.Object();
      Object.assign(o, {
        totalBytes: s.total,
        freeBytes: s.free,
        fileBytes: s.fileBytes,
        fileCount: s.fileCount,
        trashBytes: s.trashBytes,
        trashCount: s.trashCount,
      });
      return o;
    },
    hash(regex) {
      let h = 0xabcddcba;
      for (const n of methods.list(regex, { sf: false })) {
        h = ((h << 1) | (h >>> 31)) >>> 0;
        for (let i = 0; i < n.length; i++) h = Math.imul(h ^ n.charCodeAt(i), 16777619) >>> 0;
      }
      return h | 0;
    },
    optimise() {},
    open(name, mode) {
      return openFile(name, mode);
    },
  };
  for (const [k, fn] of Object.entries(methods)) {
    Object.defineProperty(S, k, {
      value: R.Function('f', `return function ${k}(){ return f.apply(this, arguments); };`)(fn),
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }

  // ---------------------------------------------------------------- StorageFile
  const StorageFile = R.Function('return function StorageFile(){}')();
  const baseName = (f) => String(f.name).slice(0, NAME_LEN - 1);
  const chunkName = (f, chunk) => baseName(f) + String.fromCharCode(chunk);
  const lastByte = (found) => jsf.flash.mem[found.addr + jsf.fileSize(found.h) - 1];
  function endOffset(found) {
    const len = jsf.fileSize(found.h);
    let i = 0;
    while (i < len && jsf.flash.mem[found.addr + i] !== 0xff) i++;
    return i;
  }

  function openFile(name, modeVar) {
    const mode = modeVar === 'r' || modeVar === 'w' || modeVar === 'a' ? modeVar : null;
    if (!mode) throw errors.error(`Invalid mode ${JSON.stringify(modeVar)}`);
    const f = R.Object.create(StorageFile.prototype);
    f.name = String(name).slice(0, NAME_LEN);
    let chunk = 1;
    let offset = 0;
    let found = jsf.find(chunkName(f, chunk));
    if (mode === 'w' && found) {
      sfm.erase.call(f);
      found = null;
    }
    if (mode === 'a') {
      while (found && lastByte(found) !== 255 && chunk < 255) {
        chunk++;
        found = jsf.find(chunkName(f, chunk));
      }
      if (found) offset = endOffset(found);
    }
    f.chunk = chunk;
    f.offset = offset;
    f.mode = mode.charCodeAt(0);
    return f;
  }

  function readInternal(f, len) {
    let isReadLine = len < 0;
    if (f.mode !== 114) throw errors.error("Can't read in this mode");
    let chunk = f.chunk;
    let found = jsf.find(chunkName(f, chunk));
    if (!found) return undefined;
    let fileLen = jsf.fileSize(found.h);
    let offset = f.offset;
    let result;
    if (isReadLine) len = 32;
    while (len) {
      let remaining = fileLen - offset;
      if (remaining <= 0) {
        offset = 0;
        if (chunk === 255) found = null;
        else {
          chunk++;
          found = jsf.find(chunkName(f, chunk));
          fileLen = found ? jsf.fileSize(found.h) : 0;
        }
        f.offset = offset;
        f.chunk = chunk;
        remaining = fileLen;
        if (!found) return result;
      }
      let l = Math.min(len, 32, remaining);
      const buf = jsf.flash.read(found.addr + offset, l);
      for (let i = 0; i < l; i++) {
        if (buf[i] === 255) {
          l = i;
          len = l;
          break;
        }
        if (isReadLine && buf[i] === 10) {
          l = i + 1;
          len = l;
          isReadLine = false;
          break;
        }
      }
      if (!l) break;
      result = (result || '') + bytesToString(Array.from(buf.slice(0, l)));
      len -= l;
      offset += l;
      if (isReadLine) len = 32;
    }
    f.offset = offset;
    return result;
  }

  const sfm = {
    read(len) {
      return readInternal(this, Math.max(0, Number(len) | 0));
    },
    readLine() {
      return readInternal(this, -1);
    },
    getLength() {
      let chunk = 1;
      let length = 0;
      let found = jsf.find(chunkName(this, chunk));
      while (found && lastByte(found) !== 255 && chunk < 255) {
        length += jsf.fileSize(found.h);
        chunk++;
        found = jsf.find(chunkName(this, chunk));
      }
      if (found) length += endOffset(found);
      return length;
    },
    write(data) {
      const f = this;
      if (f.mode !== 119 && f.mode !== 97) throw errors.error("Can't write in this mode");
      const d = stringToBytes(String(data));
      if (!d.length) return;
      let offset = f.offset;
      let chunk = f.chunk;
      let found = jsf.find(chunkName(f, chunk));
      if (!found) {
        try {
          wrap(() => jsf.writeFile(chunkName(f, chunk), d, JSFF_STORAGEFILE, 0, STORAGEFILE_CHUNKSIZE));
        } catch (e) {
          f.mode = 0;
          throw e;
        }
        f.offset = d.length;
        return;
      }
      const remaining = jsf.fileSize(found.h) - offset;
      if (d.length < remaining) {
        wrap(() => jsf.writeAligned(found.addr + offset, d));
        f.offset = offset + d.length;
        return;
      }
      wrap(() => jsf.writeAligned(found.addr + offset, d.slice(0, remaining)));
      f.offset = offset + remaining;
      if (chunk === 255) throw errors.error('File too big!');
      chunk++;
      try {
        wrap(() => jsf.writeFile(chunkName(f, chunk), d.slice(remaining), JSFF_STORAGEFILE, 0, STORAGEFILE_CHUNKSIZE));
      } catch (e) {
        f.mode = 0;
        throw e;
      }
      f.offset = d.length - remaining;
      f.chunk = chunk;
    },
    erase() {
      let chunk = 1;
      while (wrap(() => jsf.eraseFile(chunkName(this, chunk)))) chunk++;
      this.chunk = 1;
      this.offset = 0;
      this.mode = 0;
    },
  };
  for (const [k, fn] of Object.entries(sfm)) {
    Object.defineProperty(StorageFile.prototype, k, {
      value: R.Function('f', `return function ${k}(){ return f.apply(this, arguments); };`)(fn),
      writable: true,
      configurable: true,
    });
  }
  return { module: S, StorageFile };
}
