package falco

// The falco engine is the `fastly` target's runtime in the conformance suite. The suite's engine registry
// (testrun.RegisterEngine) is added on another branch; once it is here, this file is the whole registration:
//
//	func init() { testrun.RegisterEngine(fastly.Name, NewEngine()) }
//
// Until then the engine is used directly (NewEngine) by this package's tests.
