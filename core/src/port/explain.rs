//! What the port errors say to a learner, in both languages ([`Explain`]); the English is the
//! `Display` form.

use super::PortError;
use crate::lang::particle::eun_neun;
use crate::lang::{Explain, Lang};

impl Explain for PortError {
    fn explain_in(&self, lang: Lang) -> String {
        use PortError::*;
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            Empty => "포트가 비어 있습니다. 0–65535 사이의 숫자나 ssh 같은 서비스 이름을 적습니다".into(),
            NotANumber { input } => format!("{} 포트 번호가 아닙니다. 0–65535 사이의 숫자만 적습니다", eun_neun(format!("{input:?}"))),
            OutOfRange { input } => format!("포트 {} 범위를 벗어납니다. TCP와 UDP의 포트는 16비트 수, 곧 0–65535입니다", eun_neun(input)),
            UnknownService { input } => format!("{} 알 수 없는 서비스입니다. 0–65535 사이의 포트 번호나 ssh, http, mysql 같은 서비스 이름을 적습니다", eun_neun(format!("{input:?}"))),
        }
    }
}
