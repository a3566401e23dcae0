/**
 * Tiny PDFs written by hand for the extraction tests: one page per entry of `pages`, each line drawn with a
 * Helvetica text object, a correct cross-reference table, and optionally a standard-security /Encrypt dictionary
 * whose user password is not empty (so no reader can open it without one).
 */

export interface PdfLine {
  text: string;
  /** Font size in points (a larger size reads as a heading). */
  size?: number;
}

export interface PdfFixtureOptions {
  /** Lines of each page; an empty page draws only a filled rectangle (a page with no text, like a scan). */
  pages: PdfLine[][];
  /** Adds an /Encrypt dictionary (RC4, 40-bit) with an unknown user password. */
  encrypted?: boolean;
  /** The document information /Title. */
  title?: string;
}

/** Escapes a string for a PDF literal string. */
function pdfString(text: string): string {
  return `(${text.replace(/[\\()]/g, (character) => `\\${character}`)})`;
}

export function buildPdf(options: PdfFixtureOptions): Buffer {
  const objects: string[] = [];
  const add = (body: string): number => {
    objects.push(body);
    return objects.length;
  };
  const catalog = add('');
  const pagesObject = add('');
  const font = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  const pageIds: number[] = [];
  for (const lines of options.pages) {
    let stream: string;
    if (lines.length === 0) {
      stream = '0.5 g 72 72 200 200 re f';
    } else {
      let y = 760;
      const operations = ['BT'];
      for (const line of lines) {
        const size = line.size ?? 12;
        operations.push(`/F1 ${size} Tf 1 0 0 1 72 ${y} Tm ${pdfString(line.text)} Tj`);
        y -= size * 2;
      }
      operations.push('ET');
      stream = operations.join('\n');
    }
    const content = add(`<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`);
    pageIds.push(
      add(
        `<< /Type /Page /Parent ${pagesObject} 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${content} 0 R >>`,
      ),
    );
  }
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObject} 0 R >>`;
  objects[pagesObject - 1] = `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pageIds.length} >>`;
  const info = options.title === undefined ? undefined : add(`<< /Title ${pdfString(options.title)} >>`);
  const encrypt = options.encrypted
    ? add(`<< /Filter /Standard /V 1 /R 2 /Length 40 /P -44 /O <${'11'.repeat(32)}> /U <${'22'.repeat(32)}> >>`)
    : undefined;

  let output = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((body, index) => {
    offsets.push(Buffer.byteLength(output, 'latin1'));
    output += `${index + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xrefOffset = Buffer.byteLength(output, 'latin1');
  output += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) output += `${String(offset).padStart(10, '0')} 00000 n \n`;
  const trailer = [`/Size ${objects.length + 1}`, `/Root ${catalog} 0 R`];
  if (info !== undefined) trailer.push(`/Info ${info} 0 R`);
  if (encrypt !== undefined) trailer.push(`/Encrypt ${encrypt} 0 R`, `/ID [<${'ab'.repeat(16)}> <${'ab'.repeat(16)}>]`);
  output += `trailer\n<< ${trailer.join(' ')} >>\nstartxref\n${xrefOffset}\n%%EOF\n`;
  return Buffer.from(output, 'latin1');
}
