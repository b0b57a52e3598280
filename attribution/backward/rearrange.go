package backward

// VJPs of ops that only pick or move elements (Gather, DepthToSpace, SpaceToDepth): their
// Jacobians are 0/1 matrices, so the adjoint routes each cotangent element back to where its
// value came from and adds where one input element fed several outputs. LRP and DeepLIFT keep
// these exact VJPs (LayerMap's structural ops), which move relevance without creating any.

// gatherVJP: y = Gather(x, idx, axis a) with constant indices picks x's slices idx along a. The
// adjoint adds each output slice into the input slice it came from: for a scalar index or a run
// of consecutive indices (timm's q, k, v = qkv[0], qkv[1], qkv[2]) a zero Pad around the
// cotangent; otherwise a MatMul with the one-hot matrix M[k, j] = [idx_k = j] along a (repeated
// indices add).
func gatherVJP(s *Step) error {
	n := s.Node
	x := s.InShape(0)
	iv := s.InValue(1)
	if x == nil || iv == nil || iv.Shape == nil {
		return unsupported(n, "cannot infer the shapes of the data and the indices")
	}
	idx, ok := iv.Ints()
	if !ok {
		return unsupported(n, "indices known only at run time")
	}
	r := len(x)
	a := normAxis(n.AttrInt("axis", 0), r)
	if a < 0 || a >= r {
		return unsupported(n, "axis %d of a rank-%d input", n.AttrInt("axis", 0), r)
	}
	d := x[a]
	if d == Unknown {
		return unsupported(n, "gathering along the dynamic axis %d", a)
	}
	for i, j := range idx {
		if j < 0 {
			j += d
		}
		if j < 0 || j >= d {
			return unsupported(n, "index %d out of range for axis %d of size %d", idx[i], a, d)
		}
		idx[i] = j
	}
	g := s.OutGrad(0)
	// Bring the cotangent to x's rank, the gathered positions as one axis a of length k.
	k := int64(len(idx))
	switch len(iv.Shape) {
	case 0:
		g = s.Emit("Unsqueeze", []string{g, s.ConstInt([]int64{1}, int64(a))})
	case 1:
	default:
		target := make([]int64, 0, r)
		for i := 0; i < r; i++ {
			switch {
			case i == a:
				target = append(target, k)
			case x[i] == Unknown:
				if i != 0 {
					return unsupported(n, "dimension %d of the data is not static", i)
				}
				target = append(target, 0) // the batch, copied from the cotangent's axis 0
			default:
				target = append(target, x[i])
			}
		}
		g = s.Emit("Reshape", []string{g, s.ConstInt([]int64{int64(r)}, target...)})
	}
	consecutive := true
	for i := range idx {
		consecutive = consecutive && idx[i] == idx[0]+int64(i)
	}
	if consecutive {
		pads := make([]int64, 2*r)
		pads[a], pads[r+a] = idx[0], d-idx[0]-k
		if pads[a] != 0 || pads[r+a] != 0 {
			g = s.Emit("Pad", []string{g, s.ConstInt([]int64{int64(2 * r)}, pads...)})
		}
		s.SetInGrad(0, g)
		return nil
	}
	if k*d > maxConstElements {
		return unsupported(n, "gathering %d of %d slices is too large", k, d)
	}
	m := make([]float32, k*d)
	for i, j := range idx {
		m[int64(i)*d+j] = 1
	}
	// Move axis a last, multiply by M ([k, d]), move it back.
	perm := make([]int64, 0, r)
	for i := 0; i < r; i++ {
		if i != a {
			perm = append(perm, int64(i))
		}
	}
	perm = append(perm, int64(a))
	inv := make([]int64, r)
	for i, p := range perm {
		inv[p] = int64(i)
	}
	if a != r-1 {
		g = s.Emit("Transpose", []string{g}, IntsAttr("perm", perm))
	}
	g = s.Emit("MatMul", []string{g, s.ConstFloat([]int64{k, d}, m...)})
	if a != r-1 {
		g = s.Emit("Transpose", []string{g}, IntsAttr("perm", inv))
	}
	s.SetInGrad(0, g)
	return nil
}

// depthToSpaceVJP: DepthToSpace and SpaceToDepth are permutations of their input's elements.
// DepthToSpace in DCR mode and SpaceToDepth are each other's inverses (ONNX defines both through
// the same reshape and transpose), so each one's adjoint is the other. DepthToSpace in CRD mode
// (torch.onnx's PixelShuffle) is y = reshape(transpose(reshape(x, [N, C/b², b, b, H, W]),
// [0, 1, 4, 2, 5, 3]), [N, C/b², Hb, Wb]); its adjoint undoes the three steps.
func depthToSpaceVJP(s *Step) error {
	n := s.Node
	b := n.AttrInt("blocksize", 0)
	x, err := s.needShape(0)
	if err != nil {
		return err
	}
	if len(x) != 4 || b <= 0 {
		return unsupported(n, "input of rank %d, blocksize %d", len(x), b)
	}
	g := s.OutGrad(0)
	bs := IntAttr("blocksize", b)
	switch mode := n.AttrString("mode", "DCR"); {
	case n.Op == "SpaceToDepth":
		s.SetInGrad(0, s.Emit("DepthToSpace", []string{g}, bs, StringAttr("mode", "DCR")))
	case mode == "DCR":
		s.SetInGrad(0, s.Emit("SpaceToDepth", []string{g}, bs))
	case mode == "CRD":
		c, h, w := x[1], x[2], x[3]
		g = s.Emit("Reshape", []string{g, s.ConstInt([]int64{6}, 0, c/(b*b), h, b, w, b)})
		g = s.Emit("Transpose", []string{g}, IntsAttr("perm", []int64{0, 1, 3, 5, 2, 4}))
		s.SetInGrad(0, s.Emit("Reshape", []string{g, s.Emit("Shape", []string{s.In(0)})}))
	default:
		return unsupported(n, "mode %q", mode)
	}
	return nil
}
