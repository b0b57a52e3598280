// Package synth generates synthetic North Atlantic sea surface temperature with a known
// optimal linear predictor: the ground truth against which attribution methods are checked
// (DESIGN.md, "Fidelity").
//
// # Domain and time axis
//
// The grid is the North Atlantic domain of the reference study: at 2° (Config.Grid = 2) 35 x 63
// cells with centres at latitudes 5, 7, ..., 73 and longitudes -100, -98, ..., 24; at 1°
// (Config.Grid = 1) 70 x 125 cells with centres 5.5..74.5 and -99.5..24.5. Cells whose centre is
// on Natural Earth 110 m land (dataset.LandMask) are land: NaN in every output and absent from
// the dynamics. Months follow a noleap calendar starting 0001-01, like a pre-industrial control
// run.
//
// # Dynamics
//
// Each ocean cell c carries a mixed-layer temperature anomaly T and an anomaly D of the water
// below the mixed layer (the seasonal and upper permanent thermocline), both in °C. Time t is
// in months; s(t) is the time of year in months since 1 January, and w(φ) = 0.3 +
// 0.7·clamp((φ-10°)/25°, 0, 1) weights the seasonal mixed-layer processes, which matter at mid
// and high latitudes φ and less in the tropics:
//
//	dT_c/dt = Σ_n a_cn (T_n - T_c) - λ(s, φ) T_c + γe(s, φ) (D_c - T_c) + F_c(t)
//	dD_c/dt = ρ Σ_n a_cn (D_n - D_c) - D_c / τD + γd(s, φ) (T_c - D_c) + G_c(t)
//
// The parameters are chosen so that, as in a coupled model's North Atlantic, much of the
// predictability at leads of 6 to 12 months is information that persistence of the target's
// own latest anomaly lacks: a slow subsurface anomaly that shows at the surface only in winter,
// and anomalies carried from upstream by the mean current. On the default 1000-year run at
// 2° the optimal linear predictor's correlation exceeds the lag-L autocorrelation by 0.25-0.35
// at lead 6 and 0.15-0.2 at lead 9 in the subpolar gyre, the Gulf Stream, the subtropics and
// the tropics, while a 500 km neighbourhood holds nearly all of it (800 km adds at most 0.01).
//
// Mixed-layer damping (air-sea heat flux feedback over the mixed-layer heat capacity, about
// 20 W m⁻² K⁻¹ over 50 m); it is strongest in summer, when the mixed layer is shallow:
//
//	λ(s, φ) = λ0 + λ1 · w(φ) · cos(2π (s - 7) / 12),  λ0 = 0.35 month⁻¹, λ1 = 0.10 month⁻¹
//
// so a surface anomaly left alone e-folds in 2.2 months in late July at high latitudes and in
// about 3 months all year in the tropics: month-to-month weather noise dominates T and is
// quickly forgotten (lag-1 autocorrelation 0.88-0.92).
//
// Re-emergence (Alexander and Deser 1995, J. Phys. Oceanogr. 25, 122-137): in November-February
// the deepening mixed layer entrains the water below it, γe = 1.0 w(φ) month⁻¹ (strong: by
// February the winter mixed layer at high latitudes carries mostly D); in March-May it shoals
// and leaves part of the winter anomaly behind (detrainment, γd = 0.1 w(φ) month⁻¹ into D, weak
// because the layer below is several times thicker than the mixed layer, so the same heat flux
// changes it less). γe and γd are zero in the other months, when D is shielded from the
// atmosphere. D decays slowly (τD = 60 months: deep mixing and the gyre's circulation) and is
// forced directly by subsurface processes the surface does not see (G below: thermocline heave
// by wind-stress-curl anomalies and Rossby waves), so it is a slow anomaly of its own that
// re-emerges at the surface every winter. The result, at the 2° grid, is an anomaly of 0.6-0.8
// °C standard deviation with lag-6 autocorrelation about 0.2-0.3 but lag-9 0.25-0.45 and
// lag-12 0.35-0.6 (summer breaks the surface memory, winter brings it back).
//
// Transport, Σ_n a_cn (T_n - T_c) over the four neighbours n of c that are ocean (no flux
// through land or the domain's edge), is the sum of
//   - Laplacian diffusion, κ = 500 m² s⁻¹ (mesoscale eddies): a_cn = κ/Δx² towards east and
//     west, κ cos φ_{n½} / (cos φ_c Δy²) towards north and south (the spherical Laplacian);
//   - first-order upwind advection by the mean currents: a_cn = |u|/Δx (or |v|/Δy) for the
//     upstream neighbour only. Each current follows a polyline; its speed is U on the axis, a
//     Gaussian of half-width W across it (distance to the nearest segment, in a local
//     equirectangular plane), and tapers as a Gaussian of 300 km beyond the path's ends; the
//     velocity points along the nearest segment, and the currents' velocities add. The Gulf
//     Stream and North Atlantic Current run from the Florida Straits (25°N 80°W) past Cape
//     Hatteras (35°N 75°W), 40°N 60°W, the Grand Banks (46°N 46°W) and the north-west corner
//     (53°N 38°W) to 58°N 26°W, 63°N 12°W and the Norwegian Sea (68°N 0°), U = 8 cm s⁻¹,
//     W = 250 km: an effective speed for SST anomalies (far below the jet's core speed) that
//     carries them about 1000 km in 5 months, so that the water at a cell on the path a few
//     months ahead is now a few cells upstream, inside the truth's neighbourhood. The
//     subtropical gyre's return flow (Azores and Canary Currents, the North Equatorial
//     Current) runs from 40°N 30°W by 32°N 25°W, 24°N 32°W, 17°N 42°W and 14°N 58°W to 16°N
//     75°W, U = 4 cm s⁻¹, W = 400 km.
//
// The subsurface anomaly D moves with the same currents at ρ = 0.5 of their speed (the flow
// weakens with depth) and their diffusion: on the jet's axis about 100 km a month, so a winter
// anomaly stored there re-emerges the next winter several hundred kilometres downstream, and
// off the currents close to where it was stored.
//
// Forcing, in °C month⁻¹, constant within a month:
//
//	F_c(t) = σN · P(φ, λ) · N(t) + σL · η_c(t),   σN = 0.35, σL = 0.30
//	G_c(t) = σD · ζ_c(t),                         σD = 0.4
//
// where P is an NAO-like SST tripole (the response to a positive North Atlantic Oscillation:
// warm off the US east coast, cold in the subpolar gyre and in the tropics; Deser and Blackmon
// 1993, J. Climate 6, 1743-1753), a sum of three Gaussians centred at 35°N 60°W (+1, widths
// 7° x 18°), 57°N 35°W (-1, 7° x 20°) and 15°N 35°W (-0.8, 6° x 22°); N(t) is an AR(1) index of
// unit variance with lag-1 autocorrelation φN = 0.4 (the NAO has little monthly persistence);
// η is white noise smoothed by a Gaussian kernel of σ = 250 km (about 500 km across), and ζ an
// independent one smoothed at 400 km, each scaled to unit variance. Since the subsurface
// anomaly decays over about two years (τD and detrainment together), σD = 0.4 gives it a
// standard deviation of about 1.4 °C (a thermocline displaced by a few tens of metres).
//
// The equations are integrated with forward Euler in equal sub-steps per month, as many as
// keep the explicit scheme stable and accurate (the total outflow rate of T or of D times the
// sub-step at most 0.5: 9 sub-steps at 2° and 17 at 1°, set by entrainment, damping, the jet's
// advection and diffusion between the narrow cells of high latitudes). Output anomalies are
// monthly means over the sub-steps. A spin-up of 10 years (two deep e-foldings) from rest is
// discarded.
//
// # Climatology
//
// Absolute SST = climatology + T. The climatology, in °C, depends on latitude φ, longitude λ
// and the time of year s (month centre, months since 1 January):
//
//	C = 27 - 22 · x^1.3 + 2.5 · e^(-(λ+15°)²/(2·15²)) · clamp((φ-40°)/20°, 0, 1)
//	    + A(φ) · cos(2π (s - 8) / 12),       x = max(0, (φ - 5°) / 65°)
//	A(φ) = 1 + 3 · e^(-(φ-40°)²/(2·12²))
//
// about 27 °C in the tropics, 5 °C at 70°N, a warmer north-east Atlantic (the North Atlantic
// Current's warm tongue), and a seasonal cycle of amplitude 1 °C in the tropics, 4 °C at 40°N,
// peaking at the end of August. It is not clipped at the freezing point (so that SST minus
// climatology is exactly the anomaly); at 73°N it stays above 1 °C.
//
// # Subsurface temperature
//
// With Config.Subsurface (`climxai synth --subsurface`) a run also yields the temperature below
// the mixed layer, tsub = Csub + D (D's monthly mean over the sub-steps, as for T), a second
// input variable for emulators that see more than SST (as Ham et al. 2019 feed ocean heat
// content beside SST). Its climatology is constant in time: the water below the mixed layer is
// what the previous winter's deep mixed layer left behind, so it is set a little colder than the
// SST climatology's seasonal minimum (the cosine's trough, at the end of February):
//
//	Csub = M(φ, λ) - A(φ) - 0.5,     M = C without its seasonal term
//
// about 25.5 °C in the tropics, 19 °C at 25°N, 8.5-10 °C in the subpolar gyre and 2-4.5 °C at
// 73°N, below the SST climatology in every month and everywhere. Like the SST it is not
// clipped at the freezing point, so tsub minus Csub is D (to float32 rounding); with D's
// spread of 1.2-2 °C one value in 10⁴, at the coldest cells near 73°N, lies below -1.9 °C. D
// is taken out of the integration without drawing a random number or changing any arithmetic
// of T: the SST of a seed is the same bytes with or without it. What it adds to a forecast is
// what re-emergence carries: on a 200-year run the winter (January-March) mixed-layer anomaly
// at mid and high latitudes correlates 0.8-0.95 with the previous autumn's
// (September-November) D, but only 0.4-0.65 with the previous autumn's T.
//
// # Determinism
//
// Every random number comes from one math/rand/v2 PCG source seeded from Config.Seed, drawn
// in a fixed order: the same seed and grid give the same bytes on every machine.
//
// # Ground truth
//
// FitTruth estimates the optimal linear predictor of one cell's anomaly at lead L from the
// preceding 36 months of anomalies in a neighbourhood: ridge regression on the generated
// anomaly run (see FitTruth). Since the dynamics are linear and Gaussian, the best predictor of
// any kind is linear in the full state (T and D everywhere); 36 months of T in a neighbourhood
// are a close proxy for that state, so the fitted coefficients are the reference for
// attributions. The fit's sampling noise shrinks with the run's length: on a 1000-year run at
// 2° with the default 500 km neighbourhood the held-out R² at leads 6 and 9 is clearly below
// the fitting R²; fitted on an independent 5000-year run of the same model (Config.Stream,
// Config.AnomalyOnly), the default of `climxai synth --truth`, the two agree within a few
// hundredths.
//
// A predictor from SST alone is the truth for emulators that read SST alone. An emulator that
// also reads the temperature below the mixed layer (tsub, Config.Subsurface) sees part of the
// state that 36 months of surface anomalies only hint at, so its truth is the joint predictor
// (FitTruthJoint): the same regression on both variables' anomalies at the same lags and
// neighbourhood cells, each variable with its own ridge penalty. `climxai synth --subsurface
// --truth` writes it beside the SST-only one (Truth.Joint; joint_coef_sst and joint_coef_tsub in
// the file), whose coef stays what it was. With the defaults (seed 1, 2°, fitted on the
// 5000-year companion run, 500 km, held-out R² on its last 1000 years) tsub adds most at lead
// 6: at the four default targets R² rises from 0.16-0.32 to 0.32-0.50 (+0.13 to +0.18), at
// lead 9 from 0.15-0.30 to 0.21-0.38 (+0.06 to +0.10) and at lead 1 by about 0.01 (not yet
// broken down by season: presumably leads of about 6 months from summer and autumn reach the
// winter in which D re-emerges).
//
// synth imports dataset, dataset/netcdf and gonum; never app (the caller passes the version).
package synth
