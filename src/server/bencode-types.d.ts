// Types for the `bencode` package (it ships none): the subset cineswarm uses.
declare module 'bencode' {
  interface Bencode {
    encode(value: unknown): Uint8Array;
    decode(data: Uint8Array, encoding?: string): unknown;
    decode(data: Uint8Array, start: number, end: number, encoding?: string): unknown;
    byteLength(value: unknown): number;
  }
  const bencode: Bencode;
  export default bencode;
}
