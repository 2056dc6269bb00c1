//! Korean particles chosen by the sound they follow.
//!
//! A Korean particle has two forms, one after a final consonant (받침) and one after a vowel:
//! 포트를 and 서버를 take 를 because 트 and 버 end in a vowel, while 규칙을 takes 을 after the ㄱ
//! of 칙. Text that carries values ("포트 {port}") cannot fix the form
//! in advance, and writing both (을(를)) reads as a form, not as Korean. So every sentence that
//! puts a particle after a value asks this module, which reads the value the way a Korean
//! speaker says it aloud:
//!
//! - **Hangul**: the final consonant of the last syllable (Unicode's syllable arithmetic).
//! - **Numbers** are read in Sino-Korean: 2222 is 이천이백이십이 (vowel: 2222를), 8080 팔천팔십
//!   (ㅂ: 8080을), 10 십, 100 백, 1000 천, 0 영. The last number of an address is what is said
//!   last: 10.0.2.15 ends in 오 (10.0.2.15로), 10.0.0.0/8 in 팔 (…/8로, ㄹ).
//! - **Acronyms** (all capitals) are spelled letter by letter, as Korean speakers say them: NAT is
//!   엔에이티 (NAT가), VM 브이엠 (VM이), DHCP 디에이치씨피 (DHCP가), URL 유알엘 (URL로). **NIC** is
//!   the exception: it is said as a word, 닉 (NIC이). The readings are documented in
//!   docs/authoring.md, which the lessons follow.
//! - **Other Latin words** (names such as `vm1`, `home-router`) are read as English words: those
//!   ending in l, m, n, ng or net (넷: subnet, intnet) take the consonant form; the rest, whose
//!   English endings Korean writes with a vowel (라우터, 호스트, 디스크), take the vowel form.
//! - Closing quotes, brackets and spaces are skipped: `"vm1"은` is decided by `1`.
//!
//! The particles are written as [`Particle`]s and attached with [`with_particle`] or, inside
//! `format!`, with the [`eul_reul`]-style helpers, whose names are the two forms.

use std::fmt;

/// A particle with a form after a consonant and a form after a vowel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Particle {
    /// The object particle 을/를.
    EulReul,
    /// The subject particle 이/가.
    IGa,
    /// The topic particle 은/는.
    EunNeun,
    /// "and, with": 과/와.
    GwaWa,
    /// "to, as, by": 으로/로 (로 also after ㄹ).
    EuroRo,
    /// The polite copula "is": 이에요/예요.
    IeyoYeyo,
}

impl Particle {
    /// The form after a final consonant, and the form after a vowel.
    pub fn forms(self) -> (&'static str, &'static str) {
        match self {
            Particle::EulReul => ("을", "를"),
            Particle::IGa => ("이", "가"),
            Particle::EunNeun => ("은", "는"),
            Particle::GwaWa => ("과", "와"),
            Particle::EuroRo => ("으로", "로"),
            Particle::IeyoYeyo => ("이에요", "예요"),
        }
    }

    /// The form this particle takes after `word`.
    pub fn after(self, word: &str) -> &'static str {
        let (after_consonant, after_vowel) = self.forms();
        match final_sound(word) {
            FinalSound::Vowel => after_vowel,
            FinalSound::Rieul if self == Particle::EuroRo => after_vowel,
            FinalSound::Rieul | FinalSound::Consonant => after_consonant,
        }
    }
}

/// `word` followed by `particle` in the form it takes after that word.
pub fn with_particle(word: impl fmt::Display, particle: Particle) -> String {
    WithParticle { word, particle }.to_string()
}

/// A value and the particle after it, for use inside `format!`: `format!("{}", eul_reul(port))`.
#[derive(Clone, Copy, Debug)]
pub struct WithParticle<T> {
    word: T,
    particle: Particle,
}

impl<T: fmt::Display> fmt::Display for WithParticle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.word.to_string();
        let particle = self.particle.after(&word);
        write!(f, "{word}{particle}")
    }
}

/// `word` + 을/를.
pub fn eul_reul<T: fmt::Display>(word: T) -> WithParticle<T> {
    WithParticle {
        word,
        particle: Particle::EulReul,
    }
}

/// `word` + 이/가.
pub fn i_ga<T: fmt::Display>(word: T) -> WithParticle<T> {
    WithParticle {
        word,
        particle: Particle::IGa,
    }
}

/// `word` + 은/는.
pub fn eun_neun<T: fmt::Display>(word: T) -> WithParticle<T> {
    WithParticle {
        word,
        particle: Particle::EunNeun,
    }
}

/// `word` + 과/와.
pub fn gwa_wa<T: fmt::Display>(word: T) -> WithParticle<T> {
    WithParticle {
        word,
        particle: Particle::GwaWa,
    }
}

/// `word` + 으로/로.
pub fn euro_ro<T: fmt::Display>(word: T) -> WithParticle<T> {
    WithParticle {
        word,
        particle: Particle::EuroRo,
    }
}

/// `word` + 이에요/예요.
pub fn ieyo_yeyo<T: fmt::Display>(word: T) -> WithParticle<T> {
    WithParticle {
        word,
        particle: Particle::IeyoYeyo,
    }
}

/// How a word ends when said aloud, as far as particles care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinalSound {
    /// An open syllable: 포트, 이천이백이십이, 엔에이티.
    Vowel,
    /// A final ㄹ, which 으로/로 treats as a vowel: 규칙 파일, 일, 엘.
    Rieul,
    /// Any other final consonant: 규칙, 팔십, 닉.
    Consonant,
}

/// The sound `word` ends with when read aloud (see the module documentation for the readings).
pub fn final_sound(word: &str) -> FinalSound {
    let word = word.trim_end_matches(|c: char| c.is_whitespace() || is_closing(c));
    let Some(last) = word.chars().last() else {
        return FinalSound::Vowel;
    };
    if let Some(sound) = hangul_final(last) {
        return sound;
    }
    if last.is_ascii_digit() {
        return number_final(trailing(word, |c| c.is_ascii_digit()));
    }
    if last.is_ascii_alphabetic() {
        let token = trailing(word, |c| c.is_ascii_alphanumeric());
        let letters = token.trim_start_matches(|c: char| c.is_ascii_digit());
        return latin_final(letters);
    }
    FinalSound::Vowel
}

/// The longest end of `word` whose characters all satisfy `keep`.
fn trailing(word: &str, keep: impl Fn(char) -> bool) -> &str {
    let start = word
        .char_indices()
        .rev()
        .find(|&(_, c)| !keep(c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    &word[start..]
}

fn is_closing(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | ')' | ']' | '}' | '`' | '”' | '’' | '»' | '.' | ',' | ':' | ';'
    )
}

/// The final consonant of a precomposed Hangul syllable (U+AC00–U+D7A3): the syllable's offset
/// modulo 28 is its final consonant, 0 for none and 8 for ㄹ.
fn hangul_final(c: char) -> Option<FinalSound> {
    let code = c as u32;
    if !(0xAC00..=0xD7A3).contains(&code) {
        return None;
    }
    Some(match (code - 0xAC00) % 28 {
        0 => FinalSound::Vowel,
        8 => FinalSound::Rieul,
        _ => FinalSound::Consonant,
    })
}

/// A number read in Sino-Korean ends with its last non-zero digit, or with the place name of
/// its trailing zeros (십, 백, 천, 만, 억, 조, 경).
fn number_final(digits: &str) -> FinalSound {
    let significant = digits.trim_end_matches('0');
    let Some(last) = significant.chars().last() else {
        return FinalSound::Consonant; // 영
    };
    let zeros = digits.len() - significant.len();
    match zeros {
        0 => match last {
            '1' | '7' | '8' => FinalSound::Rieul, // 일, 칠, 팔
            '3' | '6' => FinalSound::Consonant,   // 삼, 육
            _ => FinalSound::Vowel,               // 이, 사, 오, 구
        },
        // 십, 백, 천, 만 (up to 천만), 억 (up to 천억)
        1..=11 => FinalSound::Consonant,
        12..=15 => FinalSound::Vowel, // 조
        _ => FinalSound::Consonant,   // 경
    }
}

/// Latin letters: an acronym is spelled out, a word is read as English.
fn latin_final(letters: &str) -> FinalSound {
    if letters.is_empty() {
        return FinalSound::Vowel;
    }
    if letters.eq_ignore_ascii_case("nic") {
        return FinalSound::Consonant; // 닉
    }
    let is_acronym =
        letters.len() > 1 && letters.chars().all(|c| c.is_ascii_uppercase()) || letters.len() == 1;
    let lower = letters.to_ascii_lowercase();
    if is_acronym {
        return match lower.chars().last() {
            Some('l' | 'r') => FinalSound::Rieul,     // 엘, 알
            Some('m' | 'n') => FinalSound::Consonant, // 엠, 엔
            _ => FinalSound::Vowel,
        };
    }
    if lower.ends_with('l') {
        FinalSound::Rieul
    } else if lower.ends_with('m')
        || lower.ends_with('n')
        || lower.ends_with("ng")
        || lower.ends_with("net")
    {
        FinalSound::Consonant
    } else {
        FinalSound::Vowel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(word: &str, particle: Particle) -> String {
        with_particle(word, particle)
    }

    #[test]
    fn hangul_by_final_consonant() {
        assert_eq!(after("포트", Particle::EulReul), "포트를");
        assert_eq!(after("규칙", Particle::EulReul), "규칙을");
        assert_eq!(after("서버", Particle::IGa), "서버가");
        assert_eq!(after("주소", Particle::EunNeun), "주소는");
        assert_eq!(after("호스트", Particle::GwaWa), "호스트와");
        assert_eq!(after("게이트웨이", Particle::IeyoYeyo), "게이트웨이예요");
    }

    #[test]
    fn rieul_takes_ro_but_consonant_forms_elsewhere() {
        assert_eq!(after("파일", Particle::EuroRo), "파일로");
        assert_eq!(after("파일", Particle::EulReul), "파일을");
        assert_eq!(after("규칙", Particle::EuroRo), "규칙으로");
        assert_eq!(after("포트", Particle::EuroRo), "포트로");
    }

    #[test]
    fn numbers_as_read_in_sino_korean() {
        assert_eq!(after("2222", Particle::EulReul), "2222를"); // 이천이백이십이
        assert_eq!(after("8080", Particle::EulReul), "8080을"); // 팔천팔십
        assert_eq!(after("22", Particle::EulReul), "22를");
        assert_eq!(after("80", Particle::IGa), "80이"); // 팔십
        assert_eq!(after("443", Particle::IGa), "443이"); // 사백사십삼
        assert_eq!(after("1", Particle::EuroRo), "1로"); // 일
        assert_eq!(after("6", Particle::EuroRo), "6으로"); // 육
        assert_eq!(after("100", Particle::EunNeun), "100은"); // 백
        assert_eq!(after("1000", Particle::EunNeun), "1000은"); // 천
        assert_eq!(after("0", Particle::EulReul), "0을"); // 영
        assert_eq!(after("65535", Particle::EulReul), "65535를"); // …오
    }

    #[test]
    fn addresses_end_with_their_last_number() {
        assert_eq!(after("10.0.2.15", Particle::EuroRo), "10.0.2.15로");
        assert_eq!(after("10.0.0.0/8", Particle::EuroRo), "10.0.0.0/8로");
        assert_eq!(after("192.168.0.0/16", Particle::IGa), "192.168.0.0/16이");
        assert_eq!(
            after("203.0.113.20:2222", Particle::EulReul),
            "203.0.113.20:2222를"
        );
    }

    #[test]
    fn acronyms_spelled_out_and_nic_said_as_a_word() {
        assert_eq!(after("NAT", Particle::IGa), "NAT가"); // 엔에이티
        assert_eq!(after("NAT", Particle::EuroRo), "NAT로");
        assert_eq!(after("VM", Particle::IGa), "VM이"); // 브이엠
        assert_eq!(after("DHCP", Particle::EunNeun), "DHCP는");
        assert_eq!(after("URL", Particle::EuroRo), "URL로"); // 유알엘
        assert_eq!(after("NIC", Particle::IGa), "NIC이"); // 닉
        assert_eq!(after("NIC", Particle::EuroRo), "NIC으로");
        assert_eq!(after("SSH", Particle::EulReul), "SSH를");
        assert_eq!(after("TCP", Particle::GwaWa), "TCP와");
    }

    #[test]
    fn names_and_quoted_values() {
        assert_eq!(after("\"vm1\"", Particle::EunNeun), "\"vm1\"은"); // 일
        assert_eq!(after("vm2", Particle::EunNeun), "vm2는"); // 이
        assert_eq!(after("home-router", Particle::EunNeun), "home-router는"); // 라우터
        assert_eq!(after("nat-network", Particle::EulReul), "nat-network를");
        assert_eq!(after("lan", Particle::EulReul), "lan을");
        assert_eq!(after("intnet", Particle::EuroRo), "intnet으로");
        assert_eq!(after("internal", Particle::EuroRo), "internal로");
        assert_eq!(after("subnet", Particle::IGa), "subnet이"); // 서브넷
        assert_eq!(after("16 GiB", Particle::IGa), "16 GiB가"); // 기비바이트
        assert_eq!(after("(vm1)", Particle::EunNeun), "(vm1)은");
    }

    #[test]
    fn format_helpers_match_with_particle() {
        assert_eq!(format!("포트 {}", eul_reul(2222)), "포트 2222를");
        assert_eq!(format!("{} 엽니다", eul_reul("NIC")), "NIC을 엽니다");
        assert_eq!(i_ga("NAT").to_string(), "NAT가");
        assert_eq!(eun_neun("vm1").to_string(), "vm1은");
        assert_eq!(gwa_wa("vm2").to_string(), "vm2와");
        assert_eq!(euro_ro("10.0.2.2").to_string(), "10.0.2.2로");
        assert_eq!(ieyo_yeyo("22").to_string(), "22예요");
    }

    #[test]
    fn empty_or_symbol_only_words_take_the_vowel_form_and_never_panic() {
        assert_eq!(after("", Particle::EulReul), "를");
        assert_eq!(after("…", Particle::IGa), "…가");
        assert_eq!(after("\"\"", Particle::EunNeun), "\"\"는");
    }

    proptest::proptest! {
        #[test]
        fn any_word_gets_exactly_one_of_the_two_forms(word in ".{0,40}") {
            for particle in [
                Particle::EulReul,
                Particle::IGa,
                Particle::EunNeun,
                Particle::GwaWa,
                Particle::EuroRo,
                Particle::IeyoYeyo,
            ] {
                let (consonant_form, vowel_form) = particle.forms();
                let joined = with_particle(&word, particle);
                let suffix = joined.strip_prefix(word.as_str()).unwrap();
                proptest::prop_assert!(suffix == consonant_form || suffix == vowel_form);
            }
        }
    }
}
