//! What the address errors say to a learner, in both languages ([`Explain`]); the English is
//! the `Display` form.

use super::{AddrError, SplitError, MAX_SPLIT};
use crate::lang::particle::{eul_reul, eun_neun, euro_ro};
use crate::lang::{Explain, Lang};

impl Explain for AddrError {
    fn explain_in(&self, lang: Lang) -> String {
        use AddrError::*;
        if lang == Lang::En {
            return self.to_string();
        }
        const FORM: &str = "192.168.0.10처럼 0–255 사이의 10진수 네 개를 점으로 이어 적습니다";
        match self {
            Empty => format!("주소가 비어 있습니다. {FORM}"),
            WrongPartCount { input, found } => format!("{} 부분이 {found}개입니다. {FORM}", eun_neun(format!("{input:?}"))),
            EmptyPart { input, position } => format!("{input:?}의 {position}번째 부분이 비어 있습니다. 점과 점 사이마다 0–255 사이의 숫자가 있어야 합니다"),
            NotDecimal { input, part } => format!("{input:?}의 {} 10진수가 아닙니다. 숫자 0–9만 씁니다", eun_neun(format!("{part:?}"))),
            LeadingZero { input, part, canonical } => format!("{input:?}의 {} 0으로 시작합니다. {} 적으세요(앞에 0이 붙은 수를 8진수로 읽는 소프트웨어가 있습니다)", eun_neun(format!("{part:?}")), euro_ro(canonical)),
            OctetOutOfRange { input, part } => format!("{input:?}의 {} 범위를 벗어납니다. IPv4 주소의 각 부분은 0–255입니다", eun_neun(part)),
            PrefixNotNumber { input, prefix } => format!("{input:?}의 프리픽스 {} 숫자가 아닙니다. /0부터 /32까지 적습니다", eun_neun(format!("{prefix:?}"))),
            PrefixTooLong { input, prefix } => format!("{input:?}의 프리픽스 /{} 너무 깁니다. IPv4 프리픽스는 /0부터 /32까지입니다", eun_neun(prefix)),
            MissingPrefix { input } => format!("{input:?}에 프리픽스 길이가 없습니다. 192.168.0.0/24처럼 주소/프리픽스 형식으로 적습니다"),
        }
    }
}

impl Explain for SplitError {
    fn explain_in(&self, lang: Lang) -> String {
        use SplitError::*;
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            Zero { block } => format!("{} 서브넷 0개로 나눌 수는 없습니다. 1개 이상이어야 합니다", eul_reul(block)),
            TooMany { block, prefix, requested, max } => format!("{} 서브넷 {requested}개로 나눌 수 없습니다. /{prefix} 블록은 서브넷(/32)을 최대 {max}개까지 담습니다", eul_reul(block)),
            TooManyToList { requested } => format!("서브넷 {requested}개를 나열할 수 없습니다. 한 번에 최대 {MAX_SPLIT}개까지입니다"),
        }
    }
}
