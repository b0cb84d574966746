import Metrics
import Testing

@Suite struct RougeTests {
    @Test func tokensMatchRougeScore() throws {
        let fixture = try TextPairs.load()
        #expect(fixture.versions["rouge-score"] != nil, "the fixture records the rouge-score version that made it")
        for entry in fixture.tokens {
            #expect(RougeScorer().tokenize(entry.text) == entry.rouge, "\(entry.text.debugDescription)")
            #expect(RougeScorer(stemming: true).tokenize(entry.text) == entry.rougeStemmed, "\(entry.text.debugDescription)")
        }
    }

    @Test(arguments: [false, true])
    func perSampleScoresMatchRougeScore(stemming: Bool) throws {
        let fixture = try TextPairs.load()
        let expected = try #require(fixture.rouge[stemming ? "stemmed" : "plain"])
        let scores = RougeScorer(stemming: stemming)
            .score(references: fixture.pairs.map(\.reference), candidates: fixture.pairs.map(\.candidate))
        #expect(scores.samples.count == fixture.pairs.count)
        for (index, (sample, reference)) in zip(scores.samples, expected).enumerated() {
            for type in RougeType.allCases {
                let want = try #require(reference[type.rawValue])
                let got = sample[type]
                let pair = fixture.pairs[index]
                #expect(abs(got.precision - want.precision) <= tolerance, "pair \(index) \(type) precision \(pair)")
                #expect(abs(got.recall - want.recall) <= tolerance, "pair \(index) \(type) recall \(pair)")
                #expect(abs(got.fmeasure - want.fmeasure) <= tolerance, "pair \(index) \(type) F \(pair)")
            }
        }
        let corpus = try #require(fixture.rougeCorpus[stemming ? "stemmed" : "plain"])
        for type in RougeType.allCases {
            #expect(abs(scores.meanF(type) - corpus[type.rawValue]!) <= tolerance, "corpus \(type)")
        }
    }

    @Test func stemmingChangesOnlyLongTokens() {
        // rouge-score stems tokens longer than 3 characters: "runs" becomes "run", "ies" stays.
        #expect(RougeScorer(stemming: true).tokenize("Runs ies ponies") == ["run", "ies", "poni"])
    }
}
