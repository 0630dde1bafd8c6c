import { crc32 } from "node:zlib";

// Code page 437, bytes 0x80-0xFF: what a spec-strict reader shows for names without the UTF-8 flag.
const CP437_HIGH =
  "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function decodeCp437(raw: Uint8Array): string {
  let out = "";
  for (const byte of raw) out += byte < 0x80 ? String.fromCharCode(byte) : CP437_HIGH[byte - 0x80];
  return out;
}

function tryUtf8(raw: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(raw);
  } catch {
    return undefined;
  }
}

/**
 * A member name as its author meant it. Info-ZIP on Linux writes UTF-8 without setting flag
 * bit 11, so valid UTF-8 wins over CP437; an Info-ZIP Unicode Path field (0x7075) wins when its
 * CRC matches the raw name. macOS archivers write NFD, so everything is normalised to NFC or
 * `é` in a photo and a mask name would never pair.
 */
export function decodeMemberName(
  raw: Uint8Array,
  utf8Flag: boolean,
  unicodePathField?: Uint8Array,
): string {
  let name: string | undefined;
  if (utf8Flag) name = tryUtf8(raw);
  if (name === undefined && unicodePathField !== undefined && unicodePathField.length >= 5) {
    const view = Buffer.from(unicodePathField.buffer, unicodePathField.byteOffset, 5);
    if (view[0] === 1 && view.readUInt32LE(1) === crc32(raw)) {
      name = tryUtf8(unicodePathField.subarray(5));
    }
  }
  name ??= tryUtf8(raw) ?? decodeCp437(raw);
  return name.normalize("NFC");
}
