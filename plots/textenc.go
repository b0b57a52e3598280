package plots

import (
	"bytes"
	"fmt"
	"strings"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgeps"
	"gonum.org/v1/plot/vg/vgpdf"
)

// Text reaches vgpdf and vgeps as UTF-8, but both write it as single-byte strings: fpdf's
// TrueType fonts are WinAnsi (cp1252) encoded and vgeps writes PostScript string literals
// unescaped. Labels like 30°N, −5 and ×10 then come out garbled (or, with an unbalanced
// parenthesis, break the EPS). The wrappers below re-encode each string on its way in; widths
// are measured by gonum on the UTF-8 text with the same glyphs, so layout is unchanged.

// pdfText re-encodes strings to cp1252 for vgpdf.
type pdfText struct{ *vgpdf.Canvas }

func (c pdfText) FillString(f font.Face, pt vg.Point, s string) {
	c.Canvas.FillString(f, pt, toSingleByte(s, cp1252))
}

// epsText re-encodes strings to ISO Latin-1 octal escapes for vgeps.
type epsText struct{ *vgeps.Canvas }

func (c epsText) FillString(f font.Face, pt vg.Point, s string) {
	b := toSingleByte(s, latin1)
	var out strings.Builder
	for i := 0; i < len(b); i++ {
		switch ch := b[i]; {
		case ch == '(' || ch == ')' || ch == '\\':
			out.WriteByte('\\')
			out.WriteByte(ch)
		case ch < 0x20 || ch >= 0x7f:
			fmt.Fprintf(&out, "\\%03o", ch)
		default:
			out.WriteByte(ch)
		}
	}
	c.Canvas.FillString(f, pt, out.String())
}

// cp1252 and latin1 map the non-ASCII characters climxai's labels use.
var (
	cp1252 = map[rune]byte{'°': 0xb0, '×': 0xd7, '−': 0x96, '–': 0x96, '—': 0x97, 'µ': 0xb5, '±': 0xb1, '·': 0xb7, '²': 0xb2, '³': 0xb3, '¹': 0xb9}
	latin1 = map[rune]byte{'°': 0xb0, '×': 0xd7, '−': 0x81, '–': 0x82, '—': 0x83, 'µ': 0xb5, '±': 0xb1, '·': 0xb7, '²': 0xb2, '³': 0xb3, '¹': 0xb9}
)

// toSingleByte encodes s with table for non-ASCII runes; unknown runes become '?'.
func toSingleByte(s string, table map[rune]byte) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case table[r] != 0:
			b.WriteByte(table[r])
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// epsFonts maps the Liberation fonts vgeps names (not embedded, unknown to PostScript
// interpreters) to the metric-compatible standard PostScript fonts, re-encoded to ISO Latin-1
// (epsEncoding) so that ° and × print.
var epsFonts = []struct{ liberation, standard string }{
	{"LiberationSerif-BoldItalic", "Times-BoldItalic"},
	{"LiberationSerif-Bold", "Times-Bold"},
	{"LiberationSerif-Italic", "Times-Italic"},
	{"LiberationSerif-Regular", "Times-Roman"},
	{"LiberationSerif", "Times-Roman"},
	{"LiberationSans-BoldItalic", "Helvetica-BoldOblique"},
	{"LiberationSans-Bold", "Helvetica-Bold"},
	{"LiberationSans-Italic", "Helvetica-Oblique"},
	{"LiberationSans-Regular", "Helvetica"},
	{"LiberationSans", "Helvetica"},
	{"LiberationMono-Regular", "Courier"},
}

// epsProlog defines each Liberation name used in b as its re-encoded standard font.
func epsProlog(b []byte) []byte {
	var p bytes.Buffer
	p.WriteString("%%BeginProlog\n")
	p.WriteString(epsEncoding)
	for _, f := range epsFonts {
		name := "/" + f.liberation + " findfont"
		if !bytes.Contains(b, []byte(name)) {
			continue
		}
		b = bytes.ReplaceAll(b, []byte(name), []byte("/CX-"+f.liberation+" findfont"))
		fmt.Fprintf(&p, "/%s findfont dup length dict begin {1 index /FID ne {def} {pop pop} ifelse} forall /Encoding CX-Encoding def currentdict end /CX-%s exch definefont pop\n", f.standard, f.liberation)
	}
	p.WriteString("%%EndProlog\n")
	return bytes.Replace(b, []byte("%%EndComments\n"), append([]byte("%%EndComments\n"), p.Bytes()...), 1)
}

// epsEncoding is ISOLatin1Encoding with a hyphen at 0x2d (ISOLatin1Encoding has the wide minus
// sign there, so "e-folding" and "lrp-epsilon" printed with minus signs) and the minus sign,
// en dash and em dash, which Latin-1 lacks, at the unused codes 0x81..0x83 (see latin1).
const epsEncoding = "/CX-Encoding ISOLatin1Encoding 256 array copy dup 45 /hyphen put dup 129 /minus put dup 130 /endash put dup 131 /emdash put def\n"
