import XCTest
import ClozeTensor

/// Forward values and gradients against PyTorch (fixtures from scripts/make_tensor_fixtures.py).
final class TorchFixtureTests: XCTestCase {
    /// Runs `f` on a tape, back-propagates L = Σ y·w, returns y.
    private func forwardBackward(w: [Float], _ f: (Tape) -> Tensor) -> Tensor {
        let tape = Tape()
        let y = f(tape)
        tape.backward(Ops.weightedSum(y, weights: w, tape: tape))
        return y
    }

    func testLayerNorm() throws {
        let fx = try Fixture.load("layernorm.json")
        let x = try fx.tensor("x"), g = try fx.tensor("gamma"), b = try fx.tensor("beta")
        let y = forwardBackward(w: try fx.floats("w")) {
            Ops.layerNorm(x, gamma: g, beta: b, eps: Float(try! fx.number("eps")), tape: $0)
        }
        assertClose(y.data, try fx.floats("y"), atol: 1e-5, "layerNorm y")
        assertClose(x.grad!, try fx.floats("dx"), atol: 1e-5, "layerNorm dx")
        assertClose(g.grad!, try fx.floats("dgamma"), atol: 1e-5, "layerNorm dgamma")
        assertClose(b.grad!, try fx.floats("dbeta"), atol: 1e-5, "layerNorm dbeta")
    }

    func testGELUBothKindsAndTanh() throws {
        let fx = try Fixture.load("gelu.json")
        for (key, kind) in [("none", Ops.GELUKind.erf), ("tanh", Ops.GELUKind.tanh)] {
            let sub = try fx.sub(key)
            let x = try sub.tensor("x")
            let y = forwardBackward(w: try sub.floats("w")) { Ops.gelu(x, kind: kind, tape: $0) }
            assertClose(y.data, try sub.floats("y"), atol: 1e-6, rtol: 1e-6, "gelu(\(key)) y")
            assertClose(x.grad!, try sub.floats("dx"), atol: 1e-6, rtol: 1e-5, "gelu(\(key)) dx")
        }
        let sub = try fx.sub("tanh_fn")
        let x = try sub.tensor("x")
        let y = forwardBackward(w: try sub.floats("w")) { Ops.tanh(x, tape: $0) }
        assertClose(y.data, try sub.floats("y"), atol: 1e-6, rtol: 1e-6, "tanh y")
        assertClose(x.grad!, try sub.floats("dx"), atol: 1e-6, rtol: 1e-5, "tanh dx")
    }

    func testSelfAttentionWithPaddingMask() throws {
        let fx = try Fixture.load("attention.json")
        let q = try fx.tensor("q"), k = try fx.tensor("k"), v = try fx.tensor("v")
        let b = Int(try fx.number("batch")), t = Int(try fx.number("seqLen")), h = Int(try fx.number("heads"))
        let mask = try fx.floats("mask")
        let y = forwardBackward(w: try fx.floats("w")) { tape in
            var none: SeededRNG? = nil
            return Ops.selfAttention(q: q, k: k, v: v, batch: b, seqLen: t, heads: h, keyMask: mask, dropout: 0.1,
                                     rng: &none, tape: tape)
        }
        assertClose(y.data, try fx.floats("context"), atol: 1e-5, "attention context")
        assertClose(q.grad!, try fx.floats("dq"), atol: 1e-5, "attention dq")
        assertClose(k.grad!, try fx.floats("dk"), atol: 1e-5, "attention dk")
        assertClose(v.grad!, try fx.floats("dv"), atol: 1e-5, "attention dv")
    }

    func testCrossEntropyWithIgnoredRow() throws {
        let fx = try Fixture.load("crossentropy.json")
        let x = try fx.tensor("logits")
        let tape = Tape()
        let loss = Ops.crossEntropy(x, targets: try fx.ints("targets"), tape: tape)
        tape.backward(loss)
        XCTAssertEqual(loss.item, Float(try fx.number("loss")), accuracy: 1e-5)
        assertClose(x.grad!, try fx.floats("dlogits"), atol: 1e-6, "crossEntropy dlogits")
    }

    func testKLDivergenceTemperature2() throws {
        let fx = try Fixture.load("kldivergence.json")
        let s = try fx.tensor("student")
        let tape = Tape()
        let loss = Ops.klDivergence(studentLogits: s, teacherProbabilities: try fx.floats("teacherProbabilities"),
                                    temperature: Float(try fx.number("temperature")), scaleByTSquared: true, tape: tape)
        tape.backward(loss)
        XCTAssertEqual(loss.item, Float(try fx.number("loss")), accuracy: 1e-5)
        assertClose(s.grad!, try fx.floats("dstudent"), atol: 1e-6, "klDivergence dstudent")
    }

    func testLinear() throws {
        let fx = try Fixture.load("linear.json")
        let x = try fx.tensor("x"), w = try fx.tensor("weight"), b = try fx.tensor("bias")
        let y = forwardBackward(w: try fx.floats("w")) { Ops.linear(x, weight: w, bias: b, tape: $0) }
        assertClose(y.data, try fx.floats("y"), atol: 1e-5, "linear y")
        assertClose(x.grad!, try fx.floats("dx"), atol: 1e-5, "linear dx")
        assertClose(w.grad!, try fx.floats("dweight"), atol: 1e-5, "linear dweight")
        assertClose(b.grad!, try fx.floats("dbias"), atol: 1e-5, "linear dbias")
    }

    func testAdamWWithClippingAndLinearSchedule() throws {
        let fx = try Fixture.load("adamw.json")
        let initial = try fx.sub("init")
        let p1 = try initial.tensor("p1"), p2 = try initial.tensor("p2")
        let opt = AdamW(parameters: [p1, p2], learningRate: 0, weightDecay: Float(try fx.number("weightDecay")),
                        noDecay: [ObjectIdentifier(p2)])
        let sched = LinearSchedule(baseLR: Float(try fx.number("baseLR")), warmupSteps: Int(try fx.number("warmup")),
                                   totalSteps: Int(try fx.number("total")))
        for (i, any) in try fx.array("steps").enumerated() {
            let step = Fixture(root: any as! [String: Any])
            p1.grad = try step.floats("g1"); p2.grad = try step.floats("g2")
            opt.learningRate = sched.lr(atStep: i)
            XCTAssertEqual(opt.learningRate, Float(try step.number("lr")), accuracy: 1e-9, "lr at step \(i)")
            let norm = clipGradNorm([p1, p2], maxNorm: Float(try fx.number("maxNorm")))
            XCTAssertEqual(norm, Float(try step.number("norm")), accuracy: 1e-5, "grad norm at step \(i)")
            opt.step()
            assertClose(p1.data, try step.floats("p1"), atol: 1e-6, "p1 after step \(i)")
            assertClose(p2.data, try step.floats("p2"), atol: 1e-6, "p2 after step \(i)")
        }
        let sch = try fx.sub("schedule")
        let s = LinearSchedule(baseLR: Float(try sch.number("baseLR")), warmupSteps: Int(try sch.number("warmup")),
                               totalSteps: Int(try sch.number("total")))
        assertClose((0..<12).map { s.lr(atStep: $0) }, try sch.floats("lrs"), atol: 0, rtol: 1e-6, "schedule lrs")
    }
}
