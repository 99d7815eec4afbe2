// Wrangler and the Workers vitest pool import a .wasm file as a compiled
// module (wrangler's default CompiledWasm rule); Workers forbid compiling one
// from bytes at run time.
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
