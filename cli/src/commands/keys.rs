//! `tessera keys …`: signing keys and key-encryption keys.

use clap::Subcommand;
use tessera_core::model::SigningAlg;

use crate::config::RawConfig;
use crate::server;

#[derive(Subcommand)]
pub(crate) enum KeysCommand {
    /// Make a new signing key current; the old one stays published until its tokens expire.
    Rotate {
        #[command(flatten)]
        common: Box<RawConfig>,
        /// Algorithm of the new key (default: TESSERA_SIGNING_ALG or EdDSA).
        #[arg(long)]
        alg: Option<String>,
    },
    /// Print a new random key-encryption key (base64) for TESSERA_KEY_ENCRYPTION_KEY.
    GenerateKek,
}

/// Run a `keys` command.
pub(crate) async fn run(command: KeysCommand) -> tessera_core::Result<()> {
    match command {
        KeysCommand::GenerateKek => {
            println!("{}", tessera_core::crypto::KeyRing::generate_base64());
            Ok(())
        }
        KeysCommand::Rotate { common, alg } => {
            let config = common.validate()?;
            server::init_logs(config.log_format);
            let alg = alg
                .map(|a| {
                    SigningAlg::parse(&a).ok_or_else(|| {
                        tessera_core::Error::config("--alg must be EdDSA, ES256 or RS256")
                    })
                })
                .transpose()?;
            let tessera = server::open(&config).await?;
            let kid = tessera.tokens().rotate(alg).await?;
            println!("new signing key: {kid}");
            Ok(())
        }
    }
}
