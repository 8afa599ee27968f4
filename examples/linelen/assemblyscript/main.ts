// linelen: reply to each input line with its length in bytes, in decimal
// (lines framing), like examples/linelen/guest. Built by
// guestbuild.AssemblyScript; see guest/assemblyscript/wasmpool.ts.
import { serve, Framing, Replies } from "../../../guest/assemblyscript/wasmpool";

serve(Framing.lines(), (line: Uint8Array, w: Replies): void => {
  w.replyDecimal(<u64>line.length);
});
