<?php
/**
 * Settings > Moderation: service URL, site slug and secret (constants in wp-config.php override them).
 *
 * @package ModerationComments
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/** Register the three options with their sanitisers. */
function modcom_register_settings() {
	register_setting( 'modcom', 'modcom_url', array( 'type' => 'string', 'sanitize_callback' => 'modcom_sanitize_url', 'default' => '' ) );
	register_setting( 'modcom', 'modcom_site', array( 'type' => 'string', 'sanitize_callback' => 'modcom_sanitize_site', 'default' => '' ) );
	register_setting( 'modcom', 'modcom_secret', array( 'type' => 'string', 'sanitize_callback' => 'modcom_sanitize_secret', 'default' => '' ) );
	register_setting( 'modcom', 'modcom_mode', array( 'type' => 'string', 'sanitize_callback' => 'modcom_sanitize_mode', 'default' => '' ) );
}
add_action( 'admin_init', 'modcom_register_settings' );

/** An http(s) base URL without a trailing slash, or '' (with an admin notice) when it is not one. */
function modcom_sanitize_url( $value ) {
	$url = untrailingslashit( esc_url_raw( trim( (string) $value ), array( 'http', 'https' ) ) );
	if ( '' !== trim( (string) $value ) && '' === $url ) {
		add_settings_error( 'modcom_url', 'modcom_url', __( 'The service URL must be an http(s) URL.' ) );
	}
	return $url;
}

/** A site slug as `moderation sites add` accepts it. */
function modcom_sanitize_site( $value ) {
	return substr( preg_replace( '/[^A-Za-z0-9_.-]/', '', (string) $value ), 0, 64 );
}

/** The secret: an empty field keeps the stored one (the page never shows it). */
function modcom_sanitize_secret( $value ) {
	$value = trim( (string) $value );
	return '' === $value ? (string) get_option( 'modcom_secret', '' ) : $value;
}

/** 'shadow' or 'enforce' (the service's answers keep it in step with `moderation sites mode`). */
function modcom_sanitize_mode( $value ) {
	return 'shadow' === $value ? 'shadow' : 'enforce';
}

/** Add the page under Settings. */
function modcom_admin_menu() {
	add_options_page( 'Moderation', 'Moderation', 'manage_options', 'modcom', 'modcom_render_settings' );
}
add_action( 'admin_menu', 'modcom_admin_menu' );

/** The settings form. */
function modcom_render_settings() {
	if ( ! current_user_can( 'manage_options' ) ) {
		return;
	}
	$has_secret = '' !== modcom_setting( 'secret' );
	?>
	<div class="wrap">
		<h1>Moderation service</h1>
		<p>Register this site with <code>moderation sites add SLUG --callback-url <?php echo esc_html( modcom_callback_url() ); ?></code> and paste the <code>site</code> and <code>secret</code> it prints.</p>
		<form method="post" action="options.php">
			<?php settings_fields( 'modcom' ); ?>
			<table class="form-table" role="presentation">
				<tr><th scope="row"><label for="modcom_url">Service URL</label></th>
					<td><input name="modcom_url" id="modcom_url" type="url" class="regular-text" value="<?php echo esc_attr( get_option( 'modcom_url', '' ) ); ?>" placeholder="https://moderation.example.id"></td></tr>
				<tr><th scope="row"><label for="modcom_site">Site</label></th>
					<td><input name="modcom_site" id="modcom_site" type="text" class="regular-text" value="<?php echo esc_attr( get_option( 'modcom_site', '' ) ); ?>"></td></tr>
				<tr><th scope="row"><label for="modcom_secret">Secret</label></th>
					<td><input name="modcom_secret" id="modcom_secret" type="password" class="regular-text" autocomplete="new-password" value="" placeholder="<?php echo $has_secret ? esc_attr__( '(stored; leave empty to keep)' ) : ''; ?>"></td></tr>
				<tr><th scope="row"><label for="modcom_mode">Mode</label></th>
					<td><select name="modcom_mode" id="modcom_mode"><option value="enforce">enforce</option><option value="shadow" <?php selected( modcom_mode(), 'shadow' ); ?>>shadow (a trial: change no status, report ours back)</option></select></td></tr>
			</table>
			<?php submit_button(); ?>
		</form>
	</div>
	<?php
}
