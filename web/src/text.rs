//! The app's interface text in English and Korean. Teaching text (what an address class is,
//! why KVM is type 1) comes from `labvisor-core` and the lessons, never from here.

use labvisor_core::lang::Text;

pub const TAGLINE: Text = Text::new(
    "Learn virtualization and networking by running it: every idea here is something you can try, watch and get checked.",
    "가상화와 네트워크를 직접 돌려 보며 배웁니다. 여기 있는 모든 개념은 직접 해 보고, 지켜보고, 채점받을 수 있습니다.",
);
pub const SKIP: Text = Text::new("Skip to content", "본문으로 건너뛰기");
pub const NAV_LABEL: Text = Text::new("Main", "주 메뉴");
pub const HOME: Text = Text::new("Home", "홈");
pub const LANGUAGE: Text = Text::new("Language", "언어");
pub const SHARE: Text = Text::new("Share", "공유");
pub const SHARE_TITLE: Text = Text::new("Share this lab", "이 실습 공유하기");
pub const SHARE_HELP: Text = Text::new(
    "This link carries your tools' state and your progress. Anyone who opens it sees what you see; their own progress is kept and merged.",
    "이 링크에는 도구의 상태와 진도가 담겨 있습니다. 링크를 연 사람은 지금 화면을 그대로 보게 되며, 그 사람의 기존 진도는 유지된 채 합쳐집니다.",
);
pub const SHARE_LINK: Text = Text::new("Share link", "공유 링크");
pub const COPY: Text = Text::new("Copy", "복사");
pub const COPIED: Text = Text::new("Copied", "복사됨");
pub const CLOSE: Text = Text::new("Close", "닫기");
pub const DISMISS: Text = Text::new("Dismiss", "닫기");

pub const LESSONS: Text = Text::new("Lessons", "레슨");
pub const LESSONS_PENDING: Text = Text::new(
    "The lessons are not part of this build yet. The tools below already run on the same engine the lessons use.",
    "이 빌드에는 아직 레슨이 없습니다. 아래 도구들은 레슨과 같은 엔진으로 이미 동작합니다.",
);
pub const TOOLS: Text = Text::new("Tools", "도구");
pub const OPEN: Text = Text::new("Open", "열기");
pub const DONE: Text = Text::new("Done", "완료");

pub const PROGRESS: Text = Text::new("Your progress", "내 진도");
pub const PROGRESS_HELP: Text = Text::new(
    "Kept in this browser. Save it to a file to move it to another computer, or to the terminal: `labvisor lesson check --progress FILE` reads and updates the same file.",
    "이 브라우저에 저장됩니다. 다른 컴퓨터나 터미널로 옮기려면 파일로 내보내세요. `labvisor lesson check --progress 파일`이 같은 파일을 읽고 고칩니다.",
);
pub const COMPLETED_N: Text = Text::new("completed", "완료");
pub const EXPORT: Text = Text::new("Export progress", "진도 내보내기");
pub const IMPORT: Text = Text::new("Import progress", "진도 가져오기");
pub const IMPORTED: Text = Text::new(
    "Progress imported: activities and course VM parts added",
    "진도를 가져왔습니다. 새로 추가된 활동과 과정 VM 항목",
);
pub const IMPORT_FAILED: Text = Text::new(
    "That file is not a Labvisor progress file, so nothing was changed.",
    "Labvisor 진도 파일이 아니어서 아무것도 바꾸지 않았습니다.",
);

pub const SHARED_OPENED: Text = Text::new(
    "Opened a shared lab. Progress merged: new activities",
    "공유된 실습을 열었습니다. 진도를 합쳤습니다. 새 활동",
);
pub const SHARE_BROKEN: Text = Text::new(
    "This share link is damaged or incomplete, so it was not opened. Nothing you had was changed.",
    "이 공유 링크는 손상되었거나 잘려 있어서 열지 않았습니다. 기존 작업은 그대로입니다.",
);
pub const SHARE_OTHER_VERSION: Text = Text::new(
    "This share link was made by another version of Labvisor, so it cannot be opened here. Nothing you had was changed.",
    "이 공유 링크는 다른 버전의 Labvisor에서 만들어져 여기서 열 수 없습니다. 기존 작업은 그대로입니다.",
);
pub const DETAILS: Text = Text::new("Details", "자세히");

pub const NOT_FOUND: Text = Text::new("Page not found", "페이지를 찾을 수 없습니다");
pub const NOT_FOUND_HELP: Text = Text::new(
    "There is no page at this address. Go back to the lesson list.",
    "이 주소에는 페이지가 없습니다. 레슨 목록으로 돌아가세요.",
);
pub const LESSON_MISSING: Text = Text::new(
    "This lesson is not part of this build.",
    "이 빌드에는 이 레슨이 없습니다.",
);
pub const BACK_HOME: Text = Text::new("Back to the lesson list", "레슨 목록으로");
pub const OPEN_FULL: Text = Text::new("Open in Labvisor", "Labvisor에서 열기");
pub const EMBED_BAD: Text = Text::new(
    "This embedded lab names no lesson or tool Labvisor has.",
    "이 임베드는 Labvisor에 없는 레슨이나 도구를 가리킵니다.",
);
pub const FOOTER: Text = Text::new(
    "one model of virtualization and networking, in your browser and on the command line.",
    "하나의 가상화·네트워크 모델을 브라우저와 명령줄에서.",
);
