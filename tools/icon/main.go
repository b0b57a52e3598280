// Command icon draws climxai's application icon, resources/icon.png: a globe seen from above
// the North Atlantic (orthographic projection centred at 35°N 40°W) whose ocean carries an
// attribution-like heatmap in ColorBrewer RdBu (a warm patch of importance around a target
// south of Greenland, a cool ring around it), land grey, from Natural Earth's
// land mask. Run by hand after a change: go run ./tools/icon (the PNG is committed and
// embedded by package resources).
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"

	"climxai/dataset"
	"climxai/plots"
)

const (
	size         = 512
	lat0, lon0   = 35.0, -40.0 // the projection's centre
	tLat, tLon   = 52.0, -35.0 // the heatmap's target
	maskStep     = 0.25        // degrees of the land mask
	earthRadiusP = 0.46        // of the icon's size
)

func main() {
	out := "resources/icon.png"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	if err := os.WriteFile(out, draw(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "icon:", err)
		os.Exit(1)
	}
	fmt.Println("wrote", out)
}

func draw() []byte {
	// Land on a regular grid covering the visible hemisphere (generously).
	var g dataset.Grid
	for lat := -60 + maskStep/2; lat < 90; lat += maskStep {
		g.Lat = append(g.Lat, lat)
	}
	for lon := -140 + maskStep/2; lon < 60; lon += maskStep {
		g.Lon = append(g.Lon, lon)
	}
	land := dataset.LandMask(g)
	isLand := func(lat, lon float64) bool {
		i := int((lat - g.Lat[0] + maskStep/2) / maskStep)
		j := int((lon - g.Lon[0] + maskStep/2) / maskStep)
		if i < 0 || i >= len(g.Lat) || j < 0 || j >= len(g.Lon) {
			return false
		}
		return land[i*len(g.Lon)+j]
	}
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	cm := plots.RdBu()
	r := earthRadiusP * size
	c := float64(size) / 2
	rad := math.Pi / 180
	sin0, cos0 := math.Sin(lat0*rad), math.Cos(lat0*rad)
	// Four samples per pixel smooth the globe's rim.
	for py := range size {
		for px := range size {
			var acc [4]float64
			for s := range 4 {
				x := (float64(px) + 0.25 + 0.5*float64(s%2) - c) / r
				y := (c - float64(py) - 0.25 - 0.5*float64(s/2)) / r
				rho := math.Hypot(x, y)
				if rho > 1 {
					continue
				}
				// Inverse orthographic projection.
				cz := math.Sqrt(1 - rho*rho)
				lat := math.Asin(cz*sin0+y*cos0) / rad
				lon := lon0 + math.Atan2(x, cz*cos0-y*sin0)/rad
				col := color.RGBA{150, 150, 150, 255} // land a shade darker than the maps' grey: an icon is small
				if !isLand(lat, lon) {
					d := greatCircleDeg(lat, lon, tLat, tLon)
					v := math.Exp(-d*d/(2*9*9)) - 0.55*math.Exp(-(d-24)*(d-24)/(2*8*8))
					col = cm.At((v + 1) / 2)
				}
				// A darker limb gives the globe its roundness.
				shade := 0.75 + 0.25*cz
				acc[0] += float64(col.R) * shade
				acc[1] += float64(col.G) * shade
				acc[2] += float64(col.B) * shade
				acc[3] += 255
			}
			if acc[3] == 0 {
				continue
			}
			a := acc[3] / 4
			img.SetRGBA(px, py, color.RGBA{uint8(acc[0] / 4), uint8(acc[1] / 4), uint8(acc[2] / 4), uint8(a)})
		}
	}
	// The rim and the target's marker.
	for t := 0.0; t < 2*math.Pi; t += 0.5 / r {
		for w := -2.0; w <= 2; w += 0.5 {
			img.SetRGBA(int(c+(r+w)*math.Cos(t)), int(c+(r+w)*math.Sin(t)), color.RGBA{20, 40, 70, 255})
		}
	}
	x, y := project(tLat, tLon)
	mx, my := int(c+x*r), int(c-y*r)
	for i := -16; i <= 16; i++ {
		for _, w := range []int{-1, 0, 1} {
			for _, p := range [][2]int{{mx + i, my - 16 + w}, {mx + i, my + 16 + w}, {mx - 16 + w, my + i}, {mx + 16 + w, my + i}} {
				img.SetRGBA(p[0], p[1], color.RGBA{0, 0, 0, 255})
			}
		}
	}
	var buf bytesBuffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.b
}

// project is the orthographic projection of (lat, lon) onto the unit disc.
func project(lat, lon float64) (x, y float64) {
	rad := math.Pi / 180
	x = math.Cos(lat*rad) * math.Sin((lon-lon0)*rad)
	y = math.Cos(lat0*rad)*math.Sin(lat*rad) - math.Sin(lat0*rad)*math.Cos(lat*rad)*math.Cos((lon-lon0)*rad)
	return x, y
}

func greatCircleDeg(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	a := math.Sin(lat1*rad)*math.Sin(lat2*rad) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Cos((lon1-lon2)*rad)
	return math.Acos(math.Max(-1, math.Min(1, a))) / rad
}

type bytesBuffer struct{ b []byte }

func (w *bytesBuffer) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
