package netcdf

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// chunkCase is one storage layout of a (t, y, x) variable written by ncgen.
type chunkCase struct {
	name  string
	kind  string // ncgen -k value
	typ   string // CDL type
	attrs string // CDL special attributes of the variable
	skip  bool   // no data section: chunks stay unallocated
}

// ncgenFile writes a CDL file with variable v of shape 13x11x9 holding seeded values and
// returns the NetCDF file ncgen made from it, with the values in row-major order.
func ncgenFile(t *testing.T, c chunkCase) (string, []float64) {
	t.Helper()
	if _, err := exec.LookPath("ncgen"); err != nil {
		t.Fatalf("ncgen is missing (Debian netcdf-bin, installed by make setup): %v", err)
	}
	const nt, ny, nx = 13, 11, 9
	rng := rand.New(rand.NewSource(int64(len(c.name))))
	vals := make([]float64, nt*ny*nx)
	var b strings.Builder
	fmt.Fprintf(&b, "netcdf t {\ndimensions:\n t = %d ; y = %d ; x = %d ;\nvariables:\n %s v(t, y, x) ;\n%s\n", nt, ny, nx, c.typ, c.attrs)
	if !c.skip {
		b.WriteString("data:\n v = ")
		for i := range vals {
			var v float64
			switch c.typ {
			case "float", "double":
				v = float64(float32(rng.NormFloat64() * 10))
			case "short":
				v = float64(rng.Intn(60000) - 30000)
			case "ubyte":
				v = float64(rng.Intn(256))
			case "byte":
				v = float64(rng.Intn(256) - 128)
			default:
				v = float64(rng.Intn(2_000_000_000) - 1_000_000_000)
			}
			vals[i] = v
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprint(&b, v)
		}
		b.WriteString(" ;\n")
	}
	b.WriteString("}\n")
	dir := t.TempDir()
	cdl := filepath.Join(dir, "t.cdl")
	if err := os.WriteFile(cdl, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	nc := filepath.Join(dir, "t.nc")
	if out, err := exec.Command("ncgen", "-k", c.kind, "-o", nc, cdl).CombinedOutput(); err != nil {
		t.Fatalf("ncgen: %v\n%s", err, out)
	}
	return nc, vals
}

// openV opens path for the test's duration and returns its variable v.
func openV(t *testing.T, path string) *Var {
	t.Helper()
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	v, err := f.Var("v")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDirectChunksMatchLibnetcdf(t *testing.T) {
	cases := []chunkCase{
		{name: "float deflate shuffle edge chunks", kind: "nc4", typ: "float",
			attrs: `v:_ChunkSizes = 1, 5, 7 ; v:_DeflateLevel = 4 ; v:_Shuffle = "true" ;`},
		{name: "float one chunk per step", kind: "nc4", typ: "float",
			attrs: `v:_ChunkSizes = 1, 11, 9 ; v:_DeflateLevel = 1 ; v:_Shuffle = "true" ;`},
		{name: "short big-endian deflate shuffle", kind: "nc4", typ: "short",
			attrs: `v:_ChunkSizes = 4, 3, 5 ; v:_DeflateLevel = 6 ; v:_Shuffle = "true" ; v:_Endianness = "big" ;`},
		{name: "double uncompressed chunks", kind: "nc4", typ: "double",
			attrs: `v:_ChunkSizes = 5, 11, 9 ; v:_Storage = "chunked" ;`},
		{name: "int deflate no shuffle", kind: "nc4", typ: "int",
			attrs: `v:_ChunkSizes = 13, 2, 2 ; v:_DeflateLevel = 9 ;`},
		{name: "ubyte shuffle only", kind: "nc4", typ: "ubyte",
			attrs: `v:_ChunkSizes = 2, 11, 4 ; v:_Shuffle = "true" ; v:_Storage = "chunked" ;`},
		{name: "byte classic model", kind: "nc7", typ: "byte",
			attrs: `v:_ChunkSizes = 3, 4, 9 ; v:_DeflateLevel = 2 ;`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path, want := ncgenFile(t, c)
			v := openV(t, path)
			ch, err := v.DirectChunks()
			if err != nil {
				t.Fatalf("DirectChunks: %v", err)
			}
			defer ch.Close()
			rng := rand.New(rand.NewSource(7))
			slabs := [][2][]int{{{0, 0, 0}, {13, 11, 9}}, {{12, 10, 8}, {1, 1, 1}}, {{0, 0, 0}, {0, 11, 9}}}
			for i := 0; i < 20; i++ {
				var s, n [3]int
				for d, size := range []int{13, 11, 9} {
					s[d] = rng.Intn(size)
					n[d] = 1 + rng.Intn(size-s[d])
				}
				slabs = append(slabs, [2][]int{s[:], n[:]})
			}
			for _, sl := range slabs {
				for _, workers := range []int{1, 3} {
					got, err := ch.ReadFloat64(sl[0], sl[1], workers)
					if err != nil {
						t.Fatalf("slab %v: %v", sl, err)
					}
					ref, err := v.ReadFloat64(sl[0], sl[1])
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != len(ref) {
						t.Fatalf("slab %v: %d values, libnetcdf %d", sl, len(got), len(ref))
					}
					for i := range got {
						if got[i] != ref[i] {
							t.Fatalf("slab %v value %d: direct %v, libnetcdf %v", sl, i, got[i], ref[i])
						}
					}
				}
			}
			all, err := ch.ReadFloat64([]int{0, 0, 0}, []int{13, 11, 9}, 2)
			if err != nil {
				t.Fatal(err)
			}
			for i := range all {
				if all[i] != want[i] {
					t.Fatalf("value %d: %v, written %v", i, all[i], want[i])
				}
			}
		})
	}
}

func TestDirectChunksDeclines(t *testing.T) {
	cases := []chunkCase{
		{name: "classic", kind: "nc3", typ: "float"},
		{name: "contiguous", kind: "nc4", typ: "float", attrs: `v:_Storage = "contiguous" ;`},
		{name: "fletcher32", kind: "nc4", typ: "float", attrs: `v:_ChunkSizes = 1, 11, 9 ; v:_Fletcher32 = "true" ;`},
		{name: "unwritten", kind: "nc4", typ: "float", attrs: `v:_ChunkSizes = 1, 11, 9 ; v:_DeflateLevel = 1 ;`, skip: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path, _ := ncgenFile(t, c)
			v := openV(t, path)
			ch, err := v.DirectChunks()
			if !errors.Is(err, ErrNoDirect) {
				if ch != nil {
					ch.Close()
				}
				t.Fatalf("DirectChunks = %v, want ErrNoDirect", err)
			}
		})
	}
}

// A damaged chunk (its compressed bytes overwritten) is an error naming the damage, not a panic
// or wrong values.
func TestDirectChunksDamaged(t *testing.T) {
	path, _ := ncgenFile(t, chunkCase{name: "damaged", kind: "nc4", typ: "float",
		attrs: `v:_ChunkSizes = 1, 11, 9 ; v:_DeflateLevel = 4 ; v:_Shuffle = "true" ;`})
	ch, err := openV(t, path).DirectChunks()
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, ch.nbytes[3])
	for i := range junk {
		junk[i] = byte(i * 37)
	}
	if _, err := w.WriteAt(junk, ch.addr[3]); err != nil {
		t.Fatal(err)
	}
	w.Close()
	_, err = ch.ReadFloat64([]int{0, 0, 0}, []int{13, 11, 9}, 2)
	if err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("reading a damaged chunk: %v, want a 'damaged' error", err)
	}
}
