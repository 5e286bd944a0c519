// Command rollback measures a rollback of the local target: it deploys -versions versions of the quick-start
// gateway into a temporary directory, then times -runs rollbacks through the same engine `edgegw rollback`
// uses, counting file-system operations through the provider's file-system layer.
//
//	go run ./bench/rollback -versions 10 -runs 50
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/local"
	"github.com/edgegw/edgegw/render/irjson"
)

func main() {
	versions := flag.Int("versions", 10, "versions deployed before measuring")
	runs := flag.Int("runs", 50, "rollbacks measured")
	flag.Parse()
	if err := run(*versions, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench/rollback:", err)
		os.Exit(1)
	}
}

func gateway(n int) *ir.Gateway {
	return &ir.Gateway{SchemaVersion: 1, Name: "bench",
		Domains: []ir.Domain{{Host: "api.example.com", Zone: "example.com"}},
		Origins: []ir.Origin{{Name: "app", URL: "http://127.0.0.1:9000"}},
		Pools:   []ir.Pool{{Name: "app", Origins: []string{"app"}}},
		Routes: []ir.Route{
			{Name: "health", Match: ir.Match{Kind: ir.PathExact, Path: "/health"}, Respond: &ir.Respond{Status: 200, Body: "v" + strconv.Itoa(n)}},
			{Name: "default", Index: 1, Match: ir.Match{Kind: ir.PathFallback}, Pool: "app"},
		},
		Targets: ir.Targets{{Name: local.Name, Config: &local.Settings{}}},
	}
}

func run(versions, runs int) error {
	dir, err := os.MkdirTemp("", "edgegw-bench-rollback-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fsys := &local.CountingFS{FS: local.OSFS{}}
	p := local.Open(dir, fsys)
	ctx := context.Background()
	quiet := func(string) string { return "" }
	for i := 1; i <= versions; i++ {
		g := gateway(i)
		arts, err := irjson.Renderer{}.Render(g)
		if err != nil {
			return err
		}
		tp, err := p.Plan(ctx, providers.PlanInput{Gateway: g, Artifacts: arts})
		if err != nil {
			return err
		}
		plan := &providers.Plan{FormatVersion: providers.PlanFormatVersion, Targets: []*providers.TargetPlan{tp}}
		if _, err := providers.Apply(ctx, plan, map[string]providers.Provider{"local": p}, providers.ApplyOptions{Gateway: g, Getenv: quiet, Who: "bench"}); err != nil {
			return err
		}
	}
	var times []time.Duration
	var ops []int
	var detail string
	for i := 0; i < runs; i++ {
		// Alternate between the two newest versions so every run is a real switch.
		to := strconv.Itoa(versions - 1 - i%2)
		if i%2 == 1 {
			to = strconv.Itoa(versions)
		}
		fsys.Reset()
		start := time.Now()
		if _, err := providers.Rollback(ctx, []providers.Provider{p}, providers.RollbackOptions{Version: to, Getenv: quiet, Who: "bench"}); err != nil {
			return err
		}
		times = append(times, time.Since(start))
		ops = append(ops, fsys.Total())
		if i == 0 {
			detail = fsys.String()
		}
	}
	slices.Sort(times)
	fmt.Printf("local rollback, %d versions kept, %d runs\n", versions, runs)
	fmt.Printf("  time:   median %v, p90 %v, max %v\n", times[len(times)/2], times[len(times)*9/10], times[len(times)-1])
	fmt.Printf("  fs ops: %d on the first run (%s), %d on the last (records grow by one per rollback)\n", ops[0], detail, ops[len(ops)-1])
	return nil
}
