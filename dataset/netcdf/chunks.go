package netcdf

/*
#cgo LDFLAGS: -ldeflate
#include <stdlib.h>
#include <netcdf.h>
#include <netcdf_filter.h>
#include <hdf5.h>
#include <libdeflate.h>

// inflateChunk undoes zlib compression of one chunk with libdeflate (about twice as fast as
// zlib's inflate; Debian libdeflate-dev); it returns libdeflate's status and sets *outLen to the
// number of bytes written. A decompressor belongs to one goroutine at a time; the calls run
// outside the binding's lock.
static int inflateChunk(struct libdeflate_decompressor *d, void *out, size_t *outLen, const void *in, size_t inLen) {
	size_t n = 0;
	int rc = libdeflate_zlib_decompress(d, in, inLen, out, *outLen, &n);
	*outLen = n;
	return rc;
}
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"unsafe"
)

// ErrNoDirect says that a variable's chunks cannot be read directly (it is not a local
// NetCDF-4 variable stored in allocated chunks with only deflate and shuffle filters); read it
// through libnetcdf instead.
var ErrNoDirect = errors.New("no direct chunk access")

// maxChunks bounds the chunk index of one variable (one lookup each).
const maxChunks = 1 << 22

// Chunks reads a NetCDF-4 variable's chunks straight from the file and undoes their filters in
// parallel, outside libnetcdf's lock: decompression, not disk, dominates reading a compressed
// SST file, and libnetcdf decompresses one chunk at a time. It gives the values libnetcdf's
// ReadFloat64 gives (checked in the tests on deflate/shuffle/endianness/type combinations).
type Chunks struct {
	Shape []int // the variable's shape
	Chunk []int // the chunk shape

	path    string
	file    *os.File
	size    int64
	typ     Type
	elem    int
	order   binary.ByteOrder
	filters []C.H5Z_filter_t // in the order applied on writing
	grid    []int            // chunks per dimension
	addr    []int64          // per chunk (row-major over grid): file offset
	nbytes  []int64          // per chunk: stored size
	mask    []uint32         // per chunk: bit i set means filter i was skipped
}

// DirectChunks indexes the variable's chunks for direct reading. An error wrapping ErrNoDirect
// means the variable has to be read through libnetcdf (classic files, URLs, contiguous storage,
// other filters, unallocated chunks); other errors are damaged files.
func (v *Var) DirectChunks() (*Chunks, error) {
	op := "index chunks of " + v.Name
	noDirect := func(why string) error {
		return fmt.Errorf("netcdf: %s %s: %s: %w", op, v.f.path, why, ErrNoDirect)
	}
	c := &Chunks{Shape: v.Shape(), path: v.f.path, typ: v.Type}
	switch v.Type {
	case Byte, UByte:
		c.elem = 1
	case Short, UShort:
		c.elem = 2
	case Int, UInt, Float:
		c.elem = 4
	case Double, Int64, UInt64:
		c.elem = 8
	default:
		return nil, noDirect("type " + v.Type.String())
	}
	if len(c.Shape) == 0 {
		return nil, noDirect("scalar")
	}
	lock()
	defer unlock()
	if err := v.f.check(op); err != nil {
		return nil, err
	}
	var format C.int
	if code := C.nc_inq_format(v.f.id, &format); code != C.NC_NOERR {
		return nil, status(code, op, v.f.path)
	}
	if format != C.NC_FORMAT_NETCDF4 && format != C.NC_FORMAT_NETCDF4_CLASSIC {
		return nil, noDirect("not NetCDF-4")
	}
	if st, err := os.Stat(v.f.path); err != nil || !st.Mode().IsRegular() {
		return nil, noDirect("not a local file")
	}
	if err := c.index(v, op); err != nil {
		return nil, err
	}
	f, err := os.Open(v.f.path)
	if err != nil {
		return nil, &Error{Op: op, Path: v.f.path, Msg: err.Error()}
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, &Error{Op: op, Path: v.f.path, Msg: err.Error()}
	}
	c.file, c.size = f, st.Size()
	for i := range c.addr {
		if c.addr[i] < 0 || c.nbytes[i] <= 0 || c.addr[i]+c.nbytes[i] > c.size {
			f.Close()
			return nil, &Error{Op: op, Path: v.f.path, Code: C.NC_EHDFERR,
				Msg: fmt.Sprintf("chunk %d of %s lies outside the file (offset %d, %d bytes, file %d bytes): the file is truncated or damaged", i, v.Name, c.addr[i], c.nbytes[i], c.size)}
		}
	}
	return c, nil
}

// index opens the variable's HDF5 dataset and records its chunk layout, filters and chunk
// addresses. Call with mu held.
func (c *Chunks) index(v *Var, op string) error {
	noDirect := func(why string) error {
		return fmt.Errorf("netcdf: %s %s: %s: %w", op, v.f.path, why, ErrNoDirect)
	}
	var storage C.int
	chunk := make([]C.size_t, len(c.Shape))
	if code := C.nc_inq_var_chunking(v.f.id, v.id, &storage, &chunk[0]); code != C.NC_NOERR {
		return status(code, op, v.f.path)
	}
	if storage != C.NC_CHUNKED {
		return noDirect("not chunked")
	}
	var fletcher C.int
	if code := C.nc_inq_var_fletcher32(v.f.id, v.id, &fletcher); code != C.NC_NOERR {
		return status(code, op, v.f.path)
	}
	if fletcher != 0 {
		return noDirect("fletcher32 checksums")
	}
	cpath := C.CString(v.f.path)
	defer C.free(unsafe.Pointer(cpath))
	fid := C.H5Fopen(cpath, C.H5F_ACC_RDONLY, C.H5P_DEFAULT)
	if fid < 0 {
		return noDirect("HDF5 cannot open the file a second time")
	}
	defer C.H5Fclose(fid)
	fcpl := C.H5Fget_create_plist(fid)
	if fcpl < 0 {
		return noDirect("no file creation properties")
	}
	var userblock C.hsize_t
	ub := C.H5Pget_userblock(fcpl, &userblock)
	C.H5Pclose(fcpl)
	if ub < 0 {
		return noDirect("no user block size")
	}
	cname := C.CString("/" + v.Name)
	defer C.free(unsafe.Pointer(cname))
	did := C.H5Dopen2(fid, cname, C.H5P_DEFAULT)
	if did < 0 {
		return noDirect("no HDF5 dataset named " + v.Name)
	}
	defer C.H5Dclose(did)

	space := C.H5Dget_space(did)
	if space < 0 {
		return noDirect("no data space")
	}
	rank := int(C.H5Sget_simple_extent_ndims(space))
	dims := make([]C.hsize_t, max(rank, 1))
	if rank == len(c.Shape) {
		C.H5Sget_simple_extent_dims(space, &dims[0], nil)
	}
	C.H5Sclose(space)
	if rank != len(c.Shape) {
		return noDirect("dataset rank differs from the variable's")
	}
	for i := range c.Shape {
		if int(dims[i]) != c.Shape[i] {
			return noDirect("dataset shape differs from the variable's")
		}
	}

	tid := C.H5Dget_type(did)
	if tid < 0 {
		return noDirect("no data type")
	}
	class, tsize, order := C.H5Tget_class(tid), int(C.H5Tget_size(tid)), C.H5Tget_order(tid)
	C.H5Tclose(tid)
	if (class != C.H5T_FLOAT && class != C.H5T_INTEGER) || tsize != c.elem {
		return noDirect("unexpected HDF5 data type")
	}
	switch order {
	case C.H5T_ORDER_LE:
		c.order = binary.LittleEndian
	case C.H5T_ORDER_BE:
		c.order = binary.BigEndian
	default:
		return noDirect("unexpected byte order")
	}

	dcpl := C.H5Dget_create_plist(did)
	if dcpl < 0 {
		return noDirect("no dataset creation properties")
	}
	defer C.H5Pclose(dcpl)
	hchunk := make([]C.hsize_t, rank)
	if int(C.H5Pget_chunk(dcpl, C.int(rank), &hchunk[0])) != rank {
		return noDirect("no chunk shape")
	}
	c.Chunk = make([]int, rank)
	c.grid = make([]int, rank)
	total := 1
	for i := range c.Chunk {
		c.Chunk[i] = int(hchunk[i])
		if c.Chunk[i] <= 0 || c.Chunk[i] != int(chunk[i]) {
			return noDirect("chunk shapes of HDF5 and libnetcdf differ")
		}
		c.grid[i] = (c.Shape[i] + c.Chunk[i] - 1) / c.Chunk[i]
		total *= c.grid[i]
		if total > maxChunks {
			return noDirect("too many chunks")
		}
	}
	if c.chunkBytes() > maxRead {
		return noDirect("chunks too large")
	}
	nf := int(C.H5Pget_nfilters(dcpl))
	for i := 0; i < nf; i++ {
		var flags C.uint
		nelem := C.size_t(0)
		id := C.H5Pget_filter2(dcpl, C.uint(i), &flags, &nelem, nil, 0, nil, nil)
		if id != C.H5Z_FILTER_DEFLATE && id != C.H5Z_FILTER_SHUFFLE {
			return noDirect(fmt.Sprintf("filter %d", int(id)))
		}
		c.filters = append(c.filters, id)
	}

	c.addr = make([]int64, total)
	c.nbytes = make([]int64, total)
	c.mask = make([]uint32, total)
	coord := make([]int, rank)
	offset := make([]C.hsize_t, rank)
	for k := 0; k < total; k++ {
		for i := range coord {
			offset[i] = C.hsize_t(coord[i] * c.Chunk[i])
		}
		var mask C.uint
		var addr C.haddr_t
		var size C.hsize_t
		if C.H5Dget_chunk_info_by_coord(did, &offset[0], &mask, &addr, &size) < 0 {
			return &Error{Op: op, Path: v.f.path, Code: C.NC_EHDFERR, Msg: fmt.Sprintf("HDF5 cannot locate chunk %v of %s: the file is damaged", coord, v.Name)}
		}
		if addr == C.HADDR_UNDEF {
			return noDirect("unallocated chunks")
		}
		if uint64(addr)+uint64(userblock) > math.MaxInt64/2 || uint64(size) > math.MaxInt64/2 {
			return &Error{Op: op, Path: v.f.path, Code: C.NC_EHDFERR, Msg: fmt.Sprintf("chunk %v of %s has an impossible address: the file is damaged", coord, v.Name)}
		}
		c.addr[k], c.nbytes[k], c.mask[k] = int64(addr)+int64(userblock), int64(size), uint32(mask)
		for i := rank - 1; i >= 0; i-- {
			if coord[i]++; coord[i] < c.grid[i] {
				break
			}
			coord[i] = 0
		}
	}
	return nil
}

// chunkBytes is the size of one chunk with its filters undone.
func (c *Chunks) chunkBytes() int {
	n := c.elem
	for _, k := range c.Chunk {
		n *= k
	}
	return n
}

// Close closes the file.
func (c *Chunks) Close() error {
	if c.file == nil {
		return nil
	}
	err := c.file.Close()
	c.file = nil
	return err
}

// ReadFloat64 reads a hyperslab as float64, undoing the filters of its chunks on workers
// goroutines. Every chunk the slab touches is read and decompressed whole, so slabs should be
// aligned with chunks.
func (c *Chunks) ReadFloat64(start, count []int, workers int) ([]float64, error) {
	op := "read chunks"
	if c.file == nil {
		return nil, &Error{Op: op, Path: c.path, Msg: "chunk reader is closed"}
	}
	rank := len(c.Shape)
	if len(start) != rank || len(count) != rank {
		return nil, &Error{Op: op, Path: c.path, Msg: fmt.Sprintf("start %v and count %v do not match the variable's %d dimensions", start, count, rank)}
	}
	n := 1
	lo, hi := make([]int, rank), make([]int, rank)
	for i := range start {
		if start[i] < 0 || count[i] < 0 || start[i]+count[i] > c.Shape[i] {
			return nil, &Error{Op: op, Path: c.path, Msg: fmt.Sprintf("hyperslab start %v count %v lies outside shape %v", start, count, c.Shape)}
		}
		n *= count[i]
		if n > maxRead {
			return nil, &Error{Op: op, Path: c.path, Msg: fmt.Sprintf("request is larger than %d values; read it in pieces", maxRead)}
		}
		lo[i] = start[i] / c.Chunk[i]
		hi[i] = (start[i] + count[i] + c.Chunk[i] - 1) / c.Chunk[i]
	}
	out := make([]float64, n)
	if n == 0 {
		return out, nil
	}
	// The chunks the slab touches, as row-major indices into the chunk grid.
	var todo []int
	coord := append([]int(nil), lo...)
	for {
		k := 0
		for i := range coord {
			k = k*c.grid[i] + coord[i]
		}
		todo = append(todo, k)
		i := rank - 1
		for ; i >= 0; i-- {
			if coord[i]++; coord[i] < hi[i] {
				break
			}
			coord[i] = lo[i]
		}
		if i < 0 {
			break
		}
	}
	workers = max(1, min(workers, len(todo)))
	jobs := make(chan int)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			raw := make([]byte, c.chunkBytes())
			tmp := make([]byte, c.chunkBytes())
			var comp []byte
			d := C.libdeflate_alloc_decompressor()
			if d == nil {
				errs[w] = &Error{Op: op, Path: c.path, Msg: "out of memory for a decompressor"}
			} else {
				defer C.libdeflate_free_decompressor(d)
			}
			for k := range jobs {
				if errs[w] != nil {
					continue
				}
				var err error
				comp, err = c.load(d, k, raw, tmp, comp)
				if err == nil {
					c.scatter(k, raw, start, count, out)
				}
				errs[w] = err
			}
		}(w)
	}
	for _, k := range todo {
		jobs <- k
	}
	close(jobs)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// load reads chunk k into raw with its filters undone; tmp is scratch of the same size and comp
// a reusable buffer for the stored bytes, returned (possibly grown).
func (c *Chunks) load(d *C.struct_libdeflate_decompressor, k int, raw, tmp, comp []byte) ([]byte, error) {
	damaged := func(format string, a ...any) error {
		return &Error{Op: "read chunks", Path: c.path, Code: C.NC_EHDFERR, Msg: fmt.Sprintf("chunk %d: ", k) + fmt.Sprintf(format, a...) + ": the file is damaged"}
	}
	size := c.nbytes[k]
	if size > int64(2*len(raw)+1<<20) {
		return comp, damaged("%d stored bytes for a %d-byte chunk", size, len(raw))
	}
	if int64(cap(comp)) < size {
		comp = make([]byte, size)
	}
	comp = comp[:size]
	if _, err := c.file.ReadAt(comp, c.addr[k]); err != nil {
		if errors.Is(err, io.EOF) {
			return comp, damaged("file ends inside the chunk")
		}
		return comp, &Error{Op: "read chunks", Path: c.path, Msg: err.Error()}
	}
	data := comp
	for i := len(c.filters) - 1; i >= 0; i-- {
		if c.mask[k]&(1<<uint(i)) != 0 {
			continue
		}
		switch c.filters[i] {
		case C.H5Z_FILTER_DEFLATE:
			dst := tmp
			if &data[0] == &tmp[0] {
				dst = raw
			}
			outLen := C.size_t(len(dst))
			rc := C.inflateChunk(d, unsafe.Pointer(&dst[0]), &outLen, unsafe.Pointer(&data[0]), C.size_t(len(data)))
			if rc != C.LIBDEFLATE_SUCCESS {
				return comp, damaged("deflate stream does not decompress (libdeflate status %d)", int(rc))
			}
			data = dst[:outLen]
		case C.H5Z_FILTER_SHUFFLE:
			dst := tmp
			if &data[0] == &tmp[0] {
				dst = raw
			}
			if len(data) != len(dst) {
				return comp, damaged("%d bytes where %d were expected", len(data), len(dst))
			}
			unshuffle(dst, data, c.elem)
			data = dst
		}
	}
	if len(data) != len(raw) {
		return comp, damaged("%d bytes where %d were expected", len(data), len(raw))
	}
	if &data[0] != &raw[0] {
		copy(raw, data)
	}
	return comp, nil
}

// unshuffle undoes HDF5's shuffle filter: the stored bytes hold every value's first byte, then
// every value's second byte, and so on.
func unshuffle(dst, src []byte, elem int) {
	n := len(src) / elem
	for b := 0; b < elem; b++ {
		plane := src[b*n : (b+1)*n]
		for i, x := range plane {
			dst[i*elem+b] = x
		}
	}
	// Bytes beyond a whole number of values are stored as they are.
	copy(dst[n*elem:], src[n*elem:])
}

// scatter converts the part of chunk k (raw, filters undone) that lies in the slab into out.
func (c *Chunks) scatter(k int, raw []byte, start, count []int, out []float64) {
	rank := len(c.Shape)
	origin := make([]int, rank) // the chunk's first element
	for i, r := rank-1, k; i >= 0; i-- {
		origin[i] = (r % c.grid[i]) * c.Chunk[i]
		r /= c.grid[i]
	}
	// The overlap of chunk and slab, per dimension.
	a, b := make([]int, rank), make([]int, rank)
	for i := range a {
		a[i] = max(origin[i], start[i])
		b[i] = min(origin[i]+c.Chunk[i], start[i]+count[i])
		if a[i] >= b[i] {
			return
		}
	}
	// Walk the overlap row by row along the last dimension.
	last := rank - 1
	width := b[last] - a[last]
	idx := append([]int(nil), a...)
	for {
		src, dst := 0, 0
		for i := 0; i < rank; i++ {
			src = src*c.Chunk[i] + idx[i] - origin[i]
			dst = dst*count[i] + idx[i] - start[i]
		}
		c.convert(out[dst:dst+width], raw[src*c.elem:(src+width)*c.elem])
		i := last - 1
		for ; i >= 0; i-- {
			if idx[i]++; idx[i] < b[i] {
				break
			}
			idx[i] = a[i]
		}
		if i < 0 {
			return
		}
	}
}

// convert decodes values of the variable's type and byte order.
func (c *Chunks) convert(dst []float64, src []byte) {
	o := c.order
	switch c.typ {
	case Float:
		for i := range dst {
			dst[i] = float64(math.Float32frombits(o.Uint32(src[4*i:])))
		}
	case Double:
		for i := range dst {
			dst[i] = math.Float64frombits(o.Uint64(src[8*i:]))
		}
	case Short:
		for i := range dst {
			dst[i] = float64(int16(o.Uint16(src[2*i:])))
		}
	case UShort:
		for i := range dst {
			dst[i] = float64(o.Uint16(src[2*i:]))
		}
	case Int:
		for i := range dst {
			dst[i] = float64(int32(o.Uint32(src[4*i:])))
		}
	case UInt:
		for i := range dst {
			dst[i] = float64(o.Uint32(src[4*i:]))
		}
	case Int64:
		for i := range dst {
			dst[i] = float64(int64(o.Uint64(src[8*i:])))
		}
	case UInt64:
		for i := range dst {
			dst[i] = float64(o.Uint64(src[8*i:]))
		}
	case Byte:
		for i := range dst {
			dst[i] = float64(int8(src[i]))
		}
	case UByte:
		for i := range dst {
			dst[i] = float64(src[i])
		}
	}
}
