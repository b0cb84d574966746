import Metrics
import Testing

@Suite struct PorterStemmerTests {
    struct Words: Decodable {
        let versions: [String: String]
        let stems: [[String]]
    }

    @Test func everyWordStemsAsNLTKStemsIt() throws {
        let words = try fixture("porter_words", as: Words.self)
        #expect(words.versions["nltk"] != nil, "the fixture records the NLTK version that made it")
        #expect(words.stems.count > 300)
        let stemmer = PorterStemmer()
        for pair in words.stems {
            #expect(stemmer.stem(pair[0]) == pair[1], "stem of \(pair[0])")
        }
    }
}
