// Package plots draws climxai's figures for papers with gonum/plot and exports them to PNG,
// PDF, SVG and EPS at journal column widths, each with a provenance sidecar from which the
// figure can be drawn again.
//
// Panels and figures (all take a width at print size and a Style; fonts are ≥ 7 pt):
//
//   - MapFigure(MapPanel): a field on its lat/lon grid as filled cells, Natural Earth
//     coastlines (resources.LandRings, shifted by ±360° to the grid's longitude convention, so
//     Atlantic (-180..180) and Pacific (0..360) grids both work), ticks labelled 30°N / 60°W,
//     a target cell or box (Marker), and a vertical colour bar; height from the map's
//     cos(mid-latitude) aspect.
//   - LeadsFigure(LeadsGrid): columns = leads, rows = lags or summaries, one shared Scale,
//     panels lettered (a), (b), ... and a horizontal colour bar below.
//   - DecayFigure([]DecaySeries): importance against lag per lead with fitted e-folding curves
//     and bands (plain slices in; the statistics of record come from package attribution).
//   - DistanceFigure([]DistanceSeries): cumulative importance against distance, R50/R90 marked.
//   - LagLatitudeFigure(LagLatitude): Hovmöller-style lag against latitude.
//   - LinesFigure(Lines): curves with references (ablation and skill).
//   - DecayMapFigure(DecayMap): e-folding time above R90 over decaymap's target cells, each a
//     block of stride x stride cells, land filled from the coastlines, sequential scales clipped
//     at Tukey's far-out fence (the bar then ends in a triangle), median/IQR/CV in the titles.
//   - FidelityFigure(Fidelity): a dot table per method (correlations with the truth, the
//     randomisation check, deletion/insertion areas) above deletion and insertion curves.
//
// Figure.Save(path, dpi) writes atomically in the format of the extension. Spec is the sidecar
// (FIG.ext.json: kind, inputs with SHA-256, lags, preset, dpi, climxai version); Make(spec,
// base, out) draws a spec and writes figure and sidecar, and `climxai figure --spec` uses it.
// Regenerated figures are byte-identical (dates in PDF and EPS are fixed).
//
// Colour: ColorBrewer RdBu (diverging, limits symmetric about zero) and matplotlib's viridis
// (sequential), both colour-blind safe; land (NaN) is grey; lines use Okabe–Ito colours with a
// distinct marker each.
//
// Pitfalls of the vg backends handled here: everything is vector (gonum's raster ColorBar
// breaks vector output: vgeps panics, vgpdf flips it, vgsvg mislabels it), cells overlap the
// next cell drawn by 1 pt so anti-aliased renderers show no seams; vgeps's "%%!PS" header and
// fractional BoundingBox are repaired and its unembedded Liberation fonts mapped to the
// metric-compatible standard PostScript fonts, re-encoded to ISO Latin-1; text reaching
// vgpdf is re-encoded to cp1252 (fonts embedded) and vgpdf's bold fonts are avoided; gonum's
// Legend.Rectangle is mirrored, so legends compute their own box; Liberation has no
// superscript minus, so exponents are drawn as raised text.
//
// Imports: gonum.org/v1/plot, climxai/dataset (fields, result and map files, atomic writes),
// climxai/resources (coastlines) and climxai/version. Nothing here imports Fyne, inference or
// attribution.
package plots
