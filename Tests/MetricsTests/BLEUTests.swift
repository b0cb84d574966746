import Metrics
import Testing

@Suite struct BLEUTests {
    func expectEqual(_ got: BLEUScore, _ want: TextPairs.BLEUValues, _ what: String) {
        #expect(abs(got.score - want.score) <= tolerance, "\(what): score \(got.score) vs \(want.score)")
        #expect(got.statistics.matches == want.counts, "\(what): counts")
        #expect(got.statistics.totals == want.totals, "\(what): totals")
        #expect(zip(got.precisions, want.precisions).allSatisfy { abs($0 - $1) <= tolerance }, "\(what): precisions \(got.precisions) vs \(want.precisions)")
        #expect(abs(got.brevityPenalty - want.bp) <= tolerance, "\(what): bp")
        #expect(got.statistics.candidateLength == want.sysLen, "\(what): sys_len")
        #expect(got.statistics.referenceLength == want.refLen, "\(what): ref_len")
    }

    @Test func tokensMatchSacrebleu13a() throws {
        let fixture = try TextPairs.load()
        for entry in fixture.tokens {
            #expect(BLEU.tokenize(entry.text).map { Array($0.unicodeScalars) } == entry.bleuTokens.map { Array($0.unicodeScalars) },
                    "\(entry.text.debugDescription)")
        }
    }

    @Test func corpusBLEUMatchesSacrebleu() throws {
        let fixture = try TextPairs.load()
        #expect(fixture.versions["sacrebleu"] != nil, "the fixture records the sacrebleu version that made it")
        #expect(fixture.bleuCorpus.count > 3)
        for corpus in fixture.bleuCorpus {
            let pairs = corpus.indices.map { fixture.pairs[$0] }
            let score = BLEU.corpus(references: pairs.map(\.reference), candidates: pairs.map(\.candidate))
            expectEqual(score, corpus.values, corpus.name)
            #expect(score.value == score.score / 100, "the paper's scale is sacrebleu's divided by 100")
        }
    }

    @Test func sentenceBLEUMatchesSacrebleu() throws {
        let fixture = try TextPairs.load()
        for (index, (pair, expected)) in zip(fixture.pairs, fixture.bleuSentence).enumerated() {
            expectEqual(BLEU.sentence(reference: pair.reference, candidate: pair.candidate),
                        expected.effectiveOrder, "pair \(index) effective order")
            expectEqual(BLEU.sentence(reference: pair.reference, candidate: pair.candidate, effectiveOrder: false),
                        expected.plain, "pair \(index)")
        }
    }
}
