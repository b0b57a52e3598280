package netcdf

/*
#include <stdlib.h>
#include <netcdf.h>
*/
import "C"

import (
	"fmt"
	"maps"
	"slices"
	"unsafe"
)

// DefDim defines a dimension; n = 0 makes it unlimited.
func (f *File) DefDim(name string, n int) (Dim, error) {
	op := "define dimension " + name
	if n < 0 {
		return Dim{}, &Error{Op: op, Path: f.path, Msg: fmt.Sprintf("negative length %d", n)}
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	lock()
	defer unlock()
	if err := f.check(op); err != nil {
		return Dim{}, err
	}
	var id C.int
	if err := status(C.nc_def_dim(f.id, cname, C.size_t(n), &id), op, f.path); err != nil {
		return Dim{}, err
	}
	return Dim{ID: int(id), Name: name, Len: n, Unlimited: n == 0}, nil
}

// DefVar defines a variable of type t over dims (none for a scalar).
func (f *File) DefVar(name string, t Type, dims []Dim) (*Var, error) {
	op := "define variable " + name
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	ids := make([]C.int, len(dims))
	for i, d := range dims {
		ids[i] = C.int(d.ID)
	}
	var pids *C.int
	if len(ids) > 0 {
		pids = &ids[0]
	}
	lock()
	defer unlock()
	if err := f.check(op); err != nil {
		return nil, err
	}
	var id C.int
	if err := status(C.nc_def_var(f.id, cname, C.nc_type(t), C.int(len(dims)), pids, &id), op, f.path); err != nil {
		return nil, err
	}
	return &Var{Name: name, Type: t, Dims: append([]Dim(nil), dims...), f: f, id: id}, nil
}

// SetDeflate turns on zlib compression (level 1..9) with optional byte shuffling; NetCDF-4 only.
func (v *Var) SetDeflate(shuffle bool, level int) error {
	op := "set deflate on " + v.Name
	if level < 0 || level > 9 {
		return &Error{Op: op, Path: v.f.path, Msg: fmt.Sprintf("deflate level %d is not in 0..9", level)}
	}
	sh := C.int(0)
	if shuffle {
		sh = 1
	}
	on := C.int(0)
	if level > 0 {
		on = 1
	}
	lock()
	defer unlock()
	if err := v.f.check(op); err != nil {
		return err
	}
	return status(C.nc_def_var_deflate(v.f.id, v.id, sh, on, C.int(level)), op, v.f.path)
}

// SetChunking stores the variable in chunks of the given sizes (one per dimension); NetCDF-4
// only. Chunks should follow the way the data are written and read: a chunk that spans many
// writes is decompressed and compressed again on each of them.
func (v *Var) SetChunking(sizes []int) error {
	op := "set chunking on " + v.Name
	if len(sizes) != len(v.Dims) || len(sizes) == 0 {
		return &Error{Op: op, Path: v.f.path, Msg: fmt.Sprintf("%d chunk sizes for %d dimensions", len(sizes), len(v.Dims))}
	}
	cs := make([]C.size_t, len(sizes))
	for i, n := range sizes {
		if n < 1 {
			return &Error{Op: op, Path: v.f.path, Msg: fmt.Sprintf("chunk size %d is not positive", n)}
		}
		cs[i] = C.size_t(n)
	}
	lock()
	defer unlock()
	if err := v.f.check(op); err != nil {
		return err
	}
	return status(C.nc_def_var_chunking(v.f.id, v.id, C.NC_CHUNKED, &cs[0]), op, v.f.path)
}

// PutAttr writes a global attribute. See putAttr for the accepted value types.
func (f *File) PutAttr(name string, value any) error {
	lock()
	defer unlock()
	if err := f.check("write global attribute " + name); err != nil {
		return err
	}
	return f.putAttr(C.NC_GLOBAL, "global", name, value)
}

// PutAttr writes an attribute of the variable. See putAttr for the accepted value types.
func (v *Var) PutAttr(name string, value any) error {
	lock()
	defer unlock()
	if err := v.f.check("write attribute " + v.Name + ":" + name); err != nil {
		return err
	}
	return v.f.putAttr(v.id, v.Name, name, value)
}

// PutAttrs writes attrs through put (a File's or a Var's PutAttr) in name order, so that the
// same attributes always give the same file.
func PutAttrs[V any](put func(name string, value any) error, attrs map[string]V) error {
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		if err := put(k, attrs[k]); err != nil {
			return err
		}
	}
	return nil
}

// putAttr writes one attribute. The Go type picks the NetCDF type: string → char,
// float64/[]float64 → double, float32/[]float32 → float, int/int32/[]int/[]int32 → int,
// int16/[]int16 → short, int8 → byte, int64 → int64 (NetCDF-4). Call with mu held.
func (f *File) putAttr(varid C.int, owner, name string, value any) error {
	op := fmt.Sprintf("write attribute %s:%s", owner, name)
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var code C.int
	switch x := value.(type) {
	case string:
		cs := C.CString(x)
		defer C.free(unsafe.Pointer(cs))
		code = C.nc_put_att_text(f.id, varid, cname, C.size_t(len(x)), cs)
	case float64:
		code = C.nc_put_att_double(f.id, varid, cname, C.NC_DOUBLE, 1, (*C.double)(&x))
	case []float64:
		code = putSlice(x, func(p unsafe.Pointer) C.int {
			return C.nc_put_att_double(f.id, varid, cname, C.NC_DOUBLE, C.size_t(len(x)), (*C.double)(p))
		})
	case float32:
		code = C.nc_put_att_float(f.id, varid, cname, C.NC_FLOAT, 1, (*C.float)(&x))
	case []float32:
		code = putSlice(x, func(p unsafe.Pointer) C.int {
			return C.nc_put_att_float(f.id, varid, cname, C.NC_FLOAT, C.size_t(len(x)), (*C.float)(p))
		})
	case int:
		v := C.int(x)
		code = C.nc_put_att_int(f.id, varid, cname, C.NC_INT, 1, &v)
	case int32:
		v := C.int(x)
		code = C.nc_put_att_int(f.id, varid, cname, C.NC_INT, 1, &v)
	case []int:
		v := make([]C.int, len(x))
		for i := range x {
			v[i] = C.int(x[i])
		}
		code = putSlice(v, func(p unsafe.Pointer) C.int {
			return C.nc_put_att_int(f.id, varid, cname, C.NC_INT, C.size_t(len(v)), (*C.int)(p))
		})
	case []int32:
		code = putSlice(x, func(p unsafe.Pointer) C.int {
			return C.nc_put_att_int(f.id, varid, cname, C.NC_INT, C.size_t(len(x)), (*C.int)(p))
		})
	case int16:
		code = C.nc_put_att_short(f.id, varid, cname, C.NC_SHORT, 1, (*C.short)(&x))
	case []int16:
		code = putSlice(x, func(p unsafe.Pointer) C.int {
			return C.nc_put_att_short(f.id, varid, cname, C.NC_SHORT, C.size_t(len(x)), (*C.short)(p))
		})
	case int8:
		code = C.nc_put_att_schar(f.id, varid, cname, C.NC_BYTE, 1, (*C.schar)(&x))
	case int64:
		v := C.longlong(x)
		code = C.nc_put_att_longlong(f.id, varid, cname, C.NC_INT64, 1, &v)
	default:
		return &Error{Op: op, Path: f.path, Msg: fmt.Sprintf("unsupported attribute value type %T", value)}
	}
	return status(code, op, f.path)
}

// putSlice calls put with a pointer to the first element, or writes an empty attribute.
func putSlice[T any](x []T, put func(p unsafe.Pointer) C.int) C.int {
	if len(x) == 0 {
		return put(nil)
	}
	return put(unsafe.Pointer(&x[0]))
}

// write runs one typed libnetcdf write after validating the request against len(data).
func (v *Var) write(start, count []int, n int, put func(cs, cc *C.size_t) C.int) error {
	op := "write " + v.Name
	lock()
	defer unlock()
	if err := v.f.check(op); err != nil {
		return err
	}
	if v.f.define {
		if err := status(C.nc_enddef(v.f.id), "end define mode", v.f.path); err != nil {
			return err
		}
		v.f.define = false
	}
	cs, cc, want, err := v.slab(op, start, count, true)
	if err != nil {
		return err
	}
	if want != n {
		return &Error{Op: op, Path: v.f.path, Msg: fmt.Sprintf("hyperslab holds %d values but %d were given", want, n)}
	}
	if n == 0 {
		return nil
	}
	s, c := ptrs(cs, cc)
	return status(put(s, c), op, v.f.path)
}

// WriteFloat32 writes a hyperslab from float32 values (converted to the variable's type).
// nil start and count write the whole variable. The file leaves define mode if it was in it.
func (v *Var) WriteFloat32(start, count []int, data []float32) error {
	return v.write(start, count, len(data), func(s, c *C.size_t) C.int {
		return C.nc_put_vara_float(v.f.id, v.id, s, c, (*C.float)(unsafe.Pointer(&data[0])))
	})
}

// WriteFloat64 writes a hyperslab from float64 values.
func (v *Var) WriteFloat64(start, count []int, data []float64) error {
	return v.write(start, count, len(data), func(s, c *C.size_t) C.int {
		return C.nc_put_vara_double(v.f.id, v.id, s, c, (*C.double)(unsafe.Pointer(&data[0])))
	})
}

// WriteInt32 writes a hyperslab from int32 values.
func (v *Var) WriteInt32(start, count []int, data []int32) error {
	return v.write(start, count, len(data), func(s, c *C.size_t) C.int {
		return C.nc_put_vara_int(v.f.id, v.id, s, c, (*C.int)(unsafe.Pointer(&data[0])))
	})
}

// WriteInt16 writes a hyperslab from int16 values.
func (v *Var) WriteInt16(start, count []int, data []int16) error {
	return v.write(start, count, len(data), func(s, c *C.size_t) C.int {
		return C.nc_put_vara_short(v.f.id, v.id, s, c, (*C.short)(unsafe.Pointer(&data[0])))
	})
}

// WriteText writes a whole char variable; shorter text is padded with NULs.
func (v *Var) WriteText(text string) error {
	n := v.Size()
	if len(text) > n {
		return &Error{Op: "write " + v.Name, Path: v.f.path, Msg: fmt.Sprintf("text of %d bytes does not fit %d characters", len(text), n)}
	}
	buf := make([]byte, n)
	copy(buf, text)
	return v.write(nil, nil, n, func(s, c *C.size_t) C.int {
		return C.nc_put_vara_text(v.f.id, v.id, s, c, (*C.char)(unsafe.Pointer(&buf[0])))
	})
}
