/**
 * A ReadableStream that pulls one chunk from `gen` at a time (high-water mark
 * 1, so nothing is produced ahead of the reader) and ends the generator when
 * the reader cancels. Used for decrypted object bodies (services/storage.ts)
 * and export ZIPs (services/export.ts).
 */
export function streamOf(gen: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await gen.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (err) {
          controller.error(err);
        }
      },
      async cancel() {
        await gen.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
}
