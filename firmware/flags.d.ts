// Build-time constants: build.mjs replaces them (esbuild `define`) and terser drops the dead
// branches, so a HiveMQ bundle carries no Azure code and the other way round.
declare const __AZURE__: boolean;
