// The Storage area of the ESP32's SPI flash as NOR flash: erased bytes are 0xFF, a write can only
// clear bits (new = old & data), only whole 4 KB pages can be set back to 0xFF.
// ESP32 default: 224 pages of 4096 bytes at 0x320000 (boards/ESP32.py 'saved_code').
//
// failAfterWrites(n): the next n program/erase operations succeed, the one after that cuts the
// power instead (nothing of it is written) and every operation after it is refused until the host
// restores power (device.reboot()).
// failAfterWrites(n, { torn }): the same, but the operation that is cut is half done, as an
// interrupted page program or sector erase leaves a NOR chip. torn: true or 'prefix': of a
// program, the first half of its bytes are written and the byte after them only partly (the 0
// bits of its high nibble); 'scatter': every other byte is written (bytes 0, 2, 4 …), the others
// not at all. Of an erase (either way), the first half of the page is 0xFF, the rest unchanged.
// stats: { writes, erases } operations done; pageErases[i]: erases of page i (wear per page).

export const FLASH_PAGE_SIZE = 4096;
export const ESP32_STORAGE_BYTES = 224 * FLASH_PAGE_SIZE;

export class PowerCut {
  constructor() {
    this.message = 'power cut during a flash operation (simulated)';
  }
}

export function createFlash(size = ESP32_STORAGE_BYTES) {
  if (size % FLASH_PAGE_SIZE) throw new Error(`storage size must be a multiple of ${FLASH_PAGE_SIZE}`);
  const mem = new Uint8Array(size).fill(0xff);
  let armed = -1; // -1: no power cut planned
  let torn = false;
  let dead = false;
  let writes = 0;
  let erases = 0;
  let onPowerCut = null;
  const pageErases = new Uint32Array(size / FLASH_PAGE_SIZE);

  // tear(): what a torn operation leaves behind, done before the power cut is thrown
  function op(tear) {
    if (dead) throw new PowerCut();
    if (armed === 0) {
      armed = -1;
      dead = true;
      if (torn) tear();
      if (onPowerCut) onPowerCut();
      throw new PowerCut();
    }
    if (armed > 0) armed--;
  }

  return {
    size,
    pageSize: FLASH_PAGE_SIZE,
    mem,
    read(addr, len) {
      return mem.slice(addr, addr + len);
    },
    write(addr, data) {
      op(() => {
        if (torn === 'scatter') {
          for (let i = 0; i < data.length; i += 2) mem[addr + i] &= data[i];
          return;
        }
        const half = data.length >> 1;
        for (let i = 0; i < half; i++) mem[addr + i] &= data[i];
        if (half < data.length) mem[addr + half] &= data[half] | 0x0f;
      });
      writes++;
      for (let i = 0; i < data.length; i++) mem[addr + i] &= data[i];
    },
    erasePage(addr) {
      const start = addr - (addr % FLASH_PAGE_SIZE);
      op(() => mem.fill(0xff, start, start + FLASH_PAGE_SIZE / 2));
      erases++;
      pageErases[start / FLASH_PAGE_SIZE]++;
      mem.fill(0xff, start, start + FLASH_PAGE_SIZE);
    },
    // host hooks
    failAfterWrites(n, opts = {}) {
      armed = n;
      torn = opts.torn === true ? 'prefix' : opts.torn || false;
    },
    get powerCut() {
      return dead;
    },
    restorePower() {
      dead = false;
    },
    setOnPowerCut(fn) {
      onPowerCut = fn;
    },
    get stats() {
      return { writes, erases };
    },
    /** erases per page so far (a live view) */
    pageErases,
  };
}
