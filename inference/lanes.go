package inference

import (
	"context"
	"errors"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	ort "github.com/yalue/onnxruntime_go"
)

// Lanes: on the CPU with two or more threads, a run of several samples does not go to one
// session run that spreads every operator over the threads. It goes to as many single-threaded
// runs at once ("lanes") as there are threads, each on a few samples, on a second session with
// one intra-op thread that is made on first use (ONNX Runtime's Session::Run may be called
// concurrently). Small per-lane batches keep each run's activations in its core's cache, and no
// operator waits for the slower of two threads: on the 1° reference DenseNet (2 cores) a
// backward run took 22 ms per sample this way against 27 ms for batches of 8 on two threads,
// a forward run 10.3 ms against 11.5 ms. A single sample still runs on all threads.
//
// LanesEnv=0 turns lanes off (every run uses the one session with opts' threads).

// LanesEnv names the environment variable that turns lanes off when set to 0.
const LanesEnv = "CLIMXAI_ORT_LANES"

// laneBytes is the working memory one lane run aims at: batches of about 48 MiB were fastest per
// sample for the reference DenseNet on this project's 2-core machine with 4 MiB of L2 per core
// (forward runs: 4 samples of 1°; backward runs: 1 sample).
const laneBytes = 48 << 20

// laneCount is how many lanes a CPU session with threads intra-op threads gets (0 = ONNX
// Runtime's choice: one per core): 0 when lanes are off or there would be only one.
func laneCount(threads int) int {
	if os.Getenv(LanesEnv) == "0" {
		return 0
	}
	if threads == 0 {
		threads = runtime.NumCPU()
	}
	if threads < 2 {
		return 0
	}
	return threads
}

// lanes holds a model's single-threaded second session.
type lanes struct {
	n    int                                         // lanes; 0 = none
	make func() (*ort.DynamicAdvancedSession, error) // makes the session on first use

	mu   sync.Mutex
	sess *ort.DynamicAdvancedSession
	err  error // the first make's error: later runs use the main session
}

// session returns the lane session, making it on first use; nil if it cannot be made.
func (l *lanes) session() *ort.DynamicAdvancedSession {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sess == nil && l.err == nil {
		l.sess, l.err = l.make()
	}
	return l.sess
}

// close releases the lane session, if it was made.
func (l *lanes) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sess == nil {
		return nil
	}
	err := l.sess.Destroy()
	l.sess, l.err = nil, errors.New("closed")
	return err
}

// spread runs n samples through run, which runs samples [i, i+k) on sess. Without lanes (or for
// a single sample) that is one call on the main session, or calls of one sample each when
// maxChunk is 1 (models with a fixed batch axis). With lanes the samples go in chunks of about
// laneBytes (sampleBytes each, at most maxChunk when > 0) to l.n goroutines on the lane session;
// the first error (ctx's, when the caller cancels) stops the other lanes and is returned.
// The caller holds the model's read lock.
func (l *lanes) spread(ctx context.Context, main *ort.DynamicAdvancedSession, n int, sampleBytes int64, maxChunk int,
	run func(ctx context.Context, sess *ort.DynamicAdvancedSession, i, k int) error) error {
	var sess *ort.DynamicAdvancedSession
	if l != nil && l.n >= 2 && n >= 2 {
		sess = l.session()
	}
	if sess == nil {
		if maxChunk <= 0 {
			return run(ctx, main, 0, n)
		}
		for i := 0; i < n; i += maxChunk {
			if err := run(ctx, main, i, min(maxChunk, n-i)); err != nil {
				return err
			}
		}
		return nil
	}
	chunk := max(1, int(laneBytes/max(1, sampleBytes)))
	if maxChunk > 0 {
		chunk = min(chunk, maxChunk)
	}
	chunk = min(chunk, (n+l.n-1)/l.n) // every lane gets work
	chunks := (n + chunk - 1) / chunk
	workers := min(l.n, chunks)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next  atomic.Int64
		once  sync.Once
		first error
		wg    sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := int(next.Add(1)) - 1
				if c >= chunks || ctx.Err() != nil {
					return
				}
				i := c * chunk
				if err := run(ctx, sess, i, min(chunk, n-i)); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}
