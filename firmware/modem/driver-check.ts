// Never bundled: tsc checks here that both drivers have exactly the shape driver.ts declares.
import type * as Driver from './driver';
import * as a76xx from './a76xx/driver';
import * as sim800 from './sim800/driver';

export const a76xxIsADriver: typeof Driver = a76xx;
export const sim800IsADriver: typeof Driver = sim800;
